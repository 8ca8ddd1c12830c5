"""A webhook receiver for the tests: verifies every delivery with the
Standard Webhooks reference library and answers 500 to the first attempts.

Started by the Rust tests; prints `PORT <n>` once listening on 127.0.0.1.
  POST /_control {"secret": "whsec_...", "fail_first": N,
                  "redirect": bool, "delay": seconds}      configure
  GET  /_log                                               every attempt seen
  POST <any other path>                                    a delivery
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

STATE = {"secret": None, "fail_first": 0, "redirect": False, "delay": 0, "attempts": {}, "log": []}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _reply(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_log":
            with LOCK:
                body = json.dumps(STATE["log"]).encode()
            return self._reply(200, body)
        self._reply(404)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        if self.path == "/_control":
            with LOCK:
                STATE.update(json.loads(raw))
            return self._reply(204)
        headers = {k.lower(): v for k, v in self.headers.items()}
        msg_id = headers.get("webhook-id", "")
        with LOCK:
            attempt = STATE["attempts"].get(msg_id, 0) + 1
            STATE["attempts"][msg_id] = attempt
            secret, fail_first = STATE["secret"], STATE["fail_first"]
            redirect, delay = STATE["redirect"], STATE["delay"]
        entry = {"id": msg_id, "attempt": attempt, "path": self.path, "headers": headers}
        try:
            entry["payload"] = Webhook(secret).verify(raw, headers)
            entry["verified"] = True
        except (WebhookVerificationError, Exception) as e:  # noqa: BLE001
            entry["verified"] = False
            entry["error"] = str(e)
        status = 500 if attempt <= fail_first else (200 if entry["verified"] else 400)
        if redirect:
            status = 302
        entry["answered"] = status
        with LOCK:
            STATE["log"].append(entry)
        if delay:
            time.sleep(delay)
        if redirect:
            self.send_response(302)
            self.send_header("location", "/followed")
            self.send_header("content-length", "0")
            self.end_headers()
            return
        self._reply(status, b"{}")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
