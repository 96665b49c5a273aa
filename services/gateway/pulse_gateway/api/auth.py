"""/api/auth and /api/me: sign in with a password or an emailed link, sign out."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from pulse_runtime.errors import ApiError
from pulse_runtime.logging import get_logger

from .. import mail
from ..cookies import clear_session_cookies, set_session_cookies
from ..deps import SESSION_COOKIE, CallerDep, ContextDep
from ..handlers import accounts
from ..security import ACCESS_TTL
from ..settings import GatewaySettings

router = APIRouter(tags=["auth"])
log = get_logger(__name__)


# Sign-in takes any string: an address that is not an account simply does not sign in.
class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class EmailLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=1, max_length=320)


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/api/auth/login")
async def login(
    request: Request, response: Response, ctx: ContextDep, body: LoginIn
) -> dict[str, Any]:
    signed = await accounts.sign_in(
        ctx.pool,
        ctx.settings,
        ctx.jwt_keys,
        email=body.email,
        password=body.password,
        address=_client_address(request),
    )
    set_session_cookies(response, ctx, signed)
    return {
        "access_token": signed.access_token,
        "token_type": "bearer",
        "expires_in": int(ACCESS_TTL.total_seconds()),
        "csrf_token": signed.csrf_token,
        "user": signed.user,
    }


@router.post("/api/auth/logout", status_code=204)
async def logout(request: Request, ctx: ContextDep, caller: CallerDep) -> Response:
    await accounts.sign_out(
        ctx.pool,
        ctx.sessions,
        session_token=request.cookies.get(SESSION_COOKIE),
        session_id=caller.session_id,
    )
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response


@router.post("/api/auth/email-link", status_code=202)
async def email_link(
    request: Request, ctx: ContextDep, body: EmailLinkIn, after: BackgroundTasks
) -> dict[str, str]:
    mails = await accounts.email_links(
        ctx.pool, ctx.settings, body.email, address=_client_address(request)
    )
    if mails is None:
        raise ApiError(429, "too many sign-in links asked for from here; try again later")
    # Sent once the answer is out: waiting for the mail server here made an address with an
    # account answer slower than one without, telling anyone who asks which addresses exist.
    for message in mails:
        after.add_task(_send_link, ctx.settings, message)
    return {"status": "if this email has an account, a sign-in link is on its way"}


async def _send_link(settings: GatewaySettings, message: EmailMessage) -> None:
    """A link that could not be sent is logged; the person asks again (nothing else is lost)."""
    try:
        await mail.send(settings, message)
    except Exception:
        log.exception("a sign-in link could not be mailed")


@router.get("/api/auth/email-link/{token}")
async def use_email_link(ctx: ContextDep, token: str) -> Response:
    if len(token) > 200:
        raise ApiError(401, "this sign-in link is invalid, used or expired")
    signed = await accounts.use_email_link(ctx.pool, ctx.settings, ctx.jwt_keys, token)
    response = RedirectResponse("/campaigns", status_code=303)
    set_session_cookies(response, ctx, signed)
    return response


@router.get("/api/me")
async def me(ctx: ContextDep, caller: CallerDep) -> dict[str, Any]:
    return {
        "user_id": caller.user_id,
        "org_id": caller.org_id,
        "role": caller.role,
        "read_only": caller.read_only,
    }
