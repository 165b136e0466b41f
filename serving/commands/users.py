"""`fanpin users add|token|disable|enable|revoke`: manage who signs in and revoke their access."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from serving.output import emit, fail

app = typer.Typer(help="用户 / users and tokens", no_args_is_help=True)


def _session():
    from serving.settings import get_settings
    from serving.store.database import get_engine, session_factory, upgrade

    settings = get_settings()
    engine = get_engine(settings)
    upgrade(engine)
    return settings, session_factory(engine)()


@app.command("add")
def add(
    username: Annotated[str, typer.Option("--username")],
    role: Annotated[str, typer.Option("--role", help="admin | county_officer | township_leader | researcher")],
    township: Annotated[str | None, typer.Option("--township", help="乡镇领导所属乡镇 / for township leaders")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读密码 / read password")] = False,
    reset: Annotated[bool, typer.Option("--reset", help="重置已有用户 / reset an existing user's password, "
                                                         "role and township")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """添加用户（--reset 重置已有用户）/ add a user (--reset: reset an existing one)."""
    from serving.access.auth import create_user

    if not password_stdin:
        fail("pass the password on stdin with --password-stdin / 请用 --password-stdin 输入密码")
        return
    password = sys.stdin.readline().rstrip("\n")
    _, session = _session()
    try:
        user = create_user(session, username, password, role, township, reset=reset)
        session.commit()
    except ValueError as error:
        fail(str(error))
        return
    finally:
        session.close()
    emit({"username": user.username, "role": user.role, "township": user.township}, as_json,
         summary=f"用户 {user.username} ({user.role}) 已保存 / saved")


@app.command("token")
def token(
    username: Annotated[str, typer.Option("--username")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """为用户签发令牌 / issue a bearer token for a user (printed once)."""
    from sqlalchemy import select

    from serving.access.auth import issue_token
    from serving.store.models import User

    settings, session = _session()
    try:
        user = session.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            fail(f"no such user / 无此用户: {username}")
            return
        value = issue_token(session, user.id, settings.token_minutes)
    finally:
        session.close()
    if as_json:
        emit({"username": username, "access_token": value, "expires_in": settings.token_minutes * 60}, True)
    else:
        print(value)


def _change(username: str, action: str, as_json: bool) -> None:
    from serving.access import auth

    _, session = _session()
    try:
        if action == "revoke":
            revoked = auth.revoke_user_tokens(session, auth.user_named(session, username).id)
        else:
            user = auth.set_active(session, username, action == "enable")
            revoked = None if user.active else "all"
        session.commit()
    except LookupError as error:
        fail(str(error))
        return
    finally:
        session.close()
    emit({"username": username, "action": action, "revoked": revoked}, as_json,
         summary=f"{username}: {action} ok / 已完成")


@app.command("disable")
def disable(username: Annotated[str, typer.Option("--username")],
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """停用用户并吊销其全部令牌与会话 / disable a user and revoke all their tokens and sessions."""
    _change(username, "disable", as_json)


@app.command("enable")
def enable(username: Annotated[str, typer.Option("--username")],
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """重新启用用户 / enable a user again (their old tokens stay revoked)."""
    _change(username, "enable", as_json)


@app.command("revoke")
def revoke(username: Annotated[str, typer.Option("--username")],
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """吊销用户的全部令牌与会话 / revoke all of a user's tokens and web sessions."""
    _change(username, "revoke", as_json)
