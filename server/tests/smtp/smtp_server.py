"""The SMTP server of the mail tests: aiosmtpd, a real SMTP server, on a loopback port.

Usage: python smtp_server.py PORT [--starttls CERT KEY | --tls CERT KEY] [--auth USER:PASSWORD]

  --starttls CERT KEY  offer STARTTLS with this certificate chain and key, and refuse every command
                       but EHLO, NOOP, QUIT and STARTTLS until the client took it (require_starttls).
  --tls CERT KEY       TLS from the first byte (implicit TLS, smtps).
  --auth USER:PASSWORD refuse mail without AUTH as this user. With --starttls AUTH is offered only
                       after STARTTLS; with --tls the whole connection is TLS; with neither it is
                       offered in plain text, so that a client that would send a password
                       unencrypted shows here.

Prints {"port": PORT} once listening, then one JSON line per event:
  {"event": "message", "from", "to": [...], "data": "<the whole message as received>",
   "tls": "<TLS version>" or null, "user": "<who authenticated>" or null}
  {"event": "auth", "user", "ok": true|false, "tls": "<TLS version>" or null}  (every AUTH try)
  {"event": "sync", "n": N}  (answering a line "sync N" on its standard input)
Recipients whose address starts with "reject" are refused with 550 (a permanent failure). It stops
when its standard input closes (the test that started it holds it), so it never outlives the test.
"""

import argparse
import json
import logging
import ssl
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def tls_version(server):
    """The TLS version of the session's connection, None in plain text (before STARTTLS too)."""
    transport = server.transport
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return ssl_object.version() if ssl_object is not None else None


def emit(line):
    print(json.dumps(line), flush=True)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content.decode("utf-8", "replace")
        user = session.auth_data if session.authenticated else None
        emit({
            "event": "message",
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": data,
            "tls": tls_version(server),
            "user": user,
        })
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user = user
        self.password = password

    def __call__(self, server, session, envelope, mechanism, auth_data):
        user = auth_data.login.decode("utf-8", "replace")
        ok = user == self.user and auth_data.password.decode("utf-8", "replace") == self.password
        emit({"event": "auth", "user": user, "ok": ok, "tls": tls_version(server)})
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)


def server_context(cert, key):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    mode.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    args = parser.parse_args()

    # aiosmtpd logs failed handshakes and its own warnings with tracebacks; the tests that cause them
    # assert what the client and this server's JSON lines show instead.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    options = {}
    if args.starttls:
        options.update(tls_context=server_context(*args.starttls), require_starttls=True)
    if args.tls:
        options.update(ssl_context=server_context(*args.tls))
    if args.auth:
        user, _, password = args.auth.partition(":")
        # aiosmtpd's auth_require_tls looks for STARTTLS only: over implicit TLS it would refuse AUTH.
        # Without any TLS it is off on purpose (see the usage above); its warning says what we know.
        warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
        options.update(
            authenticator=Authenticator(user, password),
            auth_required=True,
            auth_require_tls=bool(args.starttls),
        )
    controller = Controller(Handler(), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    emit({"port": args.port})
    try:
        # "sync N" from the test: everything printed before this line was printed before it.
        for line in sys.stdin:
            if line.startswith("sync "):
                emit({"event": "sync", "n": int(line.split()[1])})
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
