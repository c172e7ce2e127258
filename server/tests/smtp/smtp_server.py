"""The SMTP server of the mail tests: aiosmtpd, a real SMTP server, on a loopback port.

Usage: python smtp_server.py PORT. Prints {"port": PORT} once listening, then one JSON line per
message it accepts: {"from", "to": [...], "data": "<the whole message as received>"}. Recipients
whose address starts with "reject" are refused with 550 (a permanent failure). It stops when its
standard input closes (the test that started it holds it), so it never outlives the test.
"""

import json
import sys

from aiosmtpd.controller import Controller


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        data = envelope.content.decode("utf-8", "replace")
        print(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "data": data}), flush=True)
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"port": port}), flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
