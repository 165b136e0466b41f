"""Admin: disable or re-enable a user, revoke all their tokens and web sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from serving.access import auth
from serving.api.deps import SessionDep, require
from serving.api.schemas import NAME_PATTERN, Message

router = APIRouter(tags=["users"])

Username = Annotated[str, Path(pattern=NAME_PATTERN, max_length=64)]
Admin = Annotated[auth.Principal, Depends(require("users:manage"))]


def _change(session, who: auth.Principal, username: str, action: str) -> Message:
    if username == who.username and action != "enable":  # the last admin could lock everyone out
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "you cannot disable or revoke yourself / 不能停用自己的账号")
    try:
        if action == "revoke":
            count = auth.revoke_user_tokens(session, auth.user_named(session, username).id)
        else:
            auth.set_active(session, username, action == "enable")
            count = None
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user / 无此用户") from None
    auth.audit(session, who, f"user.{action}", target=username, detail={"revoked": count} if count is not None else None)
    session.commit()
    return Message(detail=f"{username}: {action} ok / 已完成")


@router.post("/users/{username}/disable", response_model=Message,
             responses={400: {"model": Message}, 404: {"model": Message}})
def disable(username: Username, session: SessionDep, who: Admin) -> Message:
    """停用用户并吊销其全部令牌与会话 / disable a user and revoke all their tokens and sessions."""
    return _change(session, who, username, "disable")


@router.post("/users/{username}/enable", response_model=Message, responses={404: {"model": Message}})
def enable(username: Username, session: SessionDep, who: Admin) -> Message:
    """重新启用用户 / enable a user again (old tokens stay revoked)."""
    return _change(session, who, username, "enable")


@router.post("/users/{username}/revoke", response_model=Message,
             responses={400: {"model": Message}, 404: {"model": Message}})
def revoke(username: Username, session: SessionDep, who: Admin) -> Message:
    """吊销用户的全部令牌与会话 / revoke all of a user's tokens and web sessions."""
    return _change(session, who, username, "revoke")
