"""A real SMTP server for the email tests: aiosmtpd on a free port of
127.0.0.1, writing every accepted message to the folder named by its
first argument as NNNN.eml (in the order received). Prints "PORT <n>" once
it listens, then serves until its standard input closes (the test dropped
it)."""

import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller

folder = sys.argv[1]
os.makedirs(folder, exist_ok=True)
lock = threading.Lock()


class Store:
    count = 0

    async def handle_DATA(self, server, session, envelope):
        with lock:
            Store.count += 1
            name = os.path.join(folder, f"{Store.count:04d}.eml")
        tmp = name + ".part"
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, name)
        return "250 OK"


probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
controller = Controller(Store(), hostname="127.0.0.1", port=port)
controller.start()
print(f"PORT {port}", flush=True)
sys.stdin.read()
controller.stop()
