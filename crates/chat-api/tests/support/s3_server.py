"""An S3-compatible server for the attachment tests: moto in server mode on
a free port of 127.0.0.1. Prints "PORT <n>" once it listens, then serves
until its standard input closes (the test dropped it)."""

import logging
import sys

from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(f"PORT {server._server.server_port}", flush=True)
sys.stdin.read()
server.stop()
