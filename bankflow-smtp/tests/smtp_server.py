"""A real SMTP server (PyPI aiosmtpd) for the bankflow-smtp tests.

Each accepted message is written to --out as N.eml (the raw message) and N.json (envelope and
the authenticated login). --refuse "451 4.3.0 try later" answers every DATA with that reply,
like a greylisting or full relay. --user/--password require AUTH (PLAIN/LOGIN); --tls starttls
requires STARTTLS, --tls implicit speaks TLS from the first byte (SMTPS), with --cert/--key.
Prints "READY <port>" once listening; stops when its standard input closes (the test ended).
"""

import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Handler:
    def __init__(self, out, refuse):
        self.out = out
        self.refuse = refuse
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        self.count += 1
        base = os.path.join(self.out, str(self.count))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        # Parsed by Python's own MIME reader: a third party's view of what we sent.
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        meta = {
            "subject": msg["subject"],
            "from": msg["from"],
            "to": msg["to"],
            "content_type": msg.get_content_type(),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": (session.auth_data.login.decode() if session.auth_data else None),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        # The .eml appears last and whole: a reader never sees half a message.
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK queued"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--refuse")
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    a = p.parse_args()
    kwargs = {}
    if a.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        if a.tls == "starttls":
            kwargs.update(tls_context=ctx, require_starttls=True)
        else:
            kwargs.update(ssl_context=ctx)
    if a.user:
        kwargs.update(
            authenticator=authenticator(a.user, a.password),
            auth_required=True,
            # With --tls none the test checks plain AUTH; after STARTTLS aiosmtpd demands TLS
            # first. (It cannot tell an implicit-TLS session is encrypted: no demand there.)
            auth_require_tls=a.tls == "starttls",
        )
    port = free_port()
    c = Controller(Handler(a.out, a.refuse), hostname="127.0.0.1", port=port, **kwargs)
    c.start()
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    c.stop()


if __name__ == "__main__":
    main()
