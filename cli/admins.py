"""`crm create-admin` and `crm admin …`: the web panel's logins, and helping an admin who
cannot sign in."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from cli.common import invite_link, with_db
from config.settings import Settings


def register(sub: Any) -> None:
    admin = sub.add_parser("create-admin", help="create an admin login for the web panel")
    admin.add_argument("login")
    admin.add_argument("--password", help="read from stdin when omitted")
    admin.set_defaults(func=_create_admin)
    helping = sub.add_parser("admin", help="web panel logins: give one, help who cannot sign in")
    actions = helping.add_subparsers(title="actions")
    unlock = actions.add_parser("unlock", help="clear the login's sign-in throttling")
    unlock.add_argument("login")
    unlock.set_defaults(func=_admin_unlock)
    reset = actions.add_parser(
        "reset-password", help="set a new password and end the login's web sessions"
    )
    reset.add_argument("login")
    reset.add_argument("--password", help="read from stdin when omitted")
    reset.set_defaults(func=_admin_reset_password)
    given = actions.add_parser(
        "login", help="let a manager (or an admin) sign in to the web panel with a login"
    )
    given.add_argument("employee_id", type=int)
    given.add_argument("login")
    given.add_argument("--password", help="read from stdin when omitted")
    given.set_defaults(func=_admin_login)


async def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from services import admins
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        admin = await admins.create_admin(
            session, login=args.login, password=password, now=SystemClock().now()
        )
        print(
            f"admin {args.login!r} created (id {admin.id}); "
            f"log in at http://{settings.http_host}:{settings.http_port}/admin/"
        )
        if admin.invite_code:
            print(
                f"to get unassigned leads in Telegram, open: "
                f"{await invite_link(settings, admin.invite_code)}"
            )
        return 0

    return await with_db(settings, work)


async def _admin_unlock(settings: Settings, args: argparse.Namespace) -> int:
    from services import web_sessions
    from services.clock import SystemClock

    async def work(session: Any) -> int:
        await web_sessions.unlock(session, login=args.login, now=SystemClock().now())
        print(f"{args.login!r} may sign in again at once")
        return 0

    return await with_db(settings, work)


async def _admin_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    from services import web_sessions
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        ended = await web_sessions.reset_password(
            session, login=args.login, password=password, now=SystemClock().now()
        )
        print(f"password of {args.login!r} changed; {ended} web session(s) ended")
        return 0

    return await with_db(settings, work)


async def _admin_login(settings: Settings, args: argparse.Namespace) -> int:
    from services import admins
    from services.clock import SystemClock

    password = args.password if args.password is not None else _read_password()

    async def work(session: Any) -> int:
        employee = await admins.give_login(
            session,
            employee_id=args.employee_id,
            login=args.login,
            password=password,
            now=SystemClock().now(),
        )
        print(
            f"{employee.name} (id {employee.id}) signs in as {args.login!r} at "
            f"http://{settings.http_host}:{settings.http_port}/admin/"
        )
        return 0

    return await with_db(settings, work)


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")
