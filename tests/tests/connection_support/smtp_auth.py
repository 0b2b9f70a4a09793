"""An SMTP submission server that requires a login (Debian's python3-aiosmtpd), for Kefu's
"test connection" tests.

Usage: python3 smtp_auth.py USER PASSWORD
Listens on 127.0.0.1 on a free port, prints the port on stdout, offers AUTH PLAIN and LOGIN
without TLS (loopback only), accepts USER with PASSWORD and answers anything else with
"535 5.7.8 Authentication credentials invalid". Exits when its standard input closes.
"""

import asyncio
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    async def handle_DATA(self, server, session, envelope):
        return "250 2.0.0 Ok: queued"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


async def main():
    user, password = sys.argv[1], sys.argv[2]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            Handler(),
            hostname="submission.kefu.test",
            authenticator=authenticator(user, password),
            auth_require_tls=False,
            auth_required=True,
        ),
        "127.0.0.1",
        0,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)


asyncio.run(main())
