"""A webhook receiver for the ops test: verifies every request with the third-party
Standard Webhooks library (PyPI `standardwebhooks`) and records what it got.

POST /hooks/<name>: the secrets of <name> are read from <secrets-dir>/<name>.secrets (one per
line, re-read on each request so the test can rotate them). Each secret is tried on its own;
the record lists the indexes of those that verified. Answers 204 when one did, 401 otherwise.
Records are JSON lines appended to --out. The bound port is written to --port-file.
"""

import argparse
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

LOCK = threading.Lock()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--secrets-dir", required=True)
    args = p.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            name = self.path.rsplit("/", 1)[-1]
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = os.path.join(args.secrets_dir, name + ".secrets")
            try:
                with open(path) as f:
                    secrets = [s.strip() for s in f if s.strip()]
            except FileNotFoundError:
                secrets = []
            verified = []
            for i, secret in enumerate(secrets):
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(i)
                except WebhookVerificationError:
                    pass
            event = json.loads(body)
            record = {
                "hook": name,
                "id": headers.get("webhook-id"),
                "type": event.get("type"),
                "event_id": event.get("id"),
                "verified": verified,
                "signatures": len(headers.get("webhook-signature", "").split()),
            }
            with LOCK, open(args.out, "a") as f:
                f.write(json.dumps(record) + "\n")
            self.send_response(204 if verified else 401)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
