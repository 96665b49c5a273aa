"""The session cookies a sign-in sets and a sign-out clears, the same for /api and the pages."""

from __future__ import annotations

from fastapi import Response

from .context import GatewayContext
from .deps import CSRF_COOKIE, SESSION_COOKIE
from .handlers.accounts import SignedIn


def set_session_cookies(response: Response, ctx: GatewayContext, signed: SignedIn) -> None:
    max_age = ctx.settings.session_days * 86400
    secure = ctx.settings.secure_cookies
    response.set_cookie(
        SESSION_COOKIE,
        signed.session_token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    # Readable by the page's script, which echoes it in X-CSRF-Token on unsafe requests.
    response.set_cookie(
        CSRF_COOKIE,
        signed.csrf_token,
        max_age=max_age,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
