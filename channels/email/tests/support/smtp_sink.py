"""A real SMTP server (Debian's python3-aiosmtpd) for Kefu's email tests.

Usage: python3 smtp_sink.py OUT_DIR [CERT_PEM KEY_PEM]
With a certificate it offers STARTTLS. Listens on 127.0.0.1 on a free port and prints the port on stdout. Every accepted message is
written to OUT_DIR/<n>.eml. Each transaction's RCPT is answered as scripted in OUT_DIR/script
(one outcome per line, consumed one per transaction): accept | tempfail | ratelimit | reject.
Exits when its standard input closes, so it never outlives the test that started it.
Without AUTH, like a trusted relay; with SMTP_SINK_AUTH=refuse in the environment it offers
AUTH PLAIN/LOGIN (also without TLS) and refuses every login with 535.
"""

import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, out):
        self.out = out
        self.n = 0

    def next_outcome(self):
        path = os.path.join(self.out, "script")
        try:
            with open(path) as f:
                lines = f.read().split()
        except FileNotFoundError:
            return "accept"
        if not lines:
            return "accept"
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(lines[1:]))
        os.replace(path + ".tmp", path)
        return lines[0]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        outcome = self.next_outcome()
        if outcome == "tempfail":
            return "451 4.3.0 Temporary local problem, please try again"
        if outcome == "ratelimit":
            return "450 4.7.1 Rate limit exceeded for this sender, try again later"
        if outcome == "reject":
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        tmp = os.path.join(self.out, "%d.tmp" % self.n)
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.replace(tmp, os.path.join(self.out, "%d.eml" % self.n))
        return "250 2.0.0 Ok: queued as %d" % self.n


async def main():
    out = sys.argv[1]
    tls = None
    if len(sys.argv) > 3:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(sys.argv[2], sys.argv[3])
    handler = Handler(out)
    auth = {}
    if os.environ.get("SMTP_SINK_AUTH") == "refuse":
        auth = dict(
            authenticator=lambda *args: AuthResult(success=False, handled=False),
            auth_require_tls=False,
        )
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.kefu.test", tls_context=tls, **auth),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
