"""Sign in and out of the dashboard; "/" opens the campaigns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from pulse_runtime.errors import ApiError

from ..cookies import clear_session_cookies, set_session_cookies
from ..deps import SESSION_COOKIE, ContextDep
from ..handlers import accounts
from ..repository import users
from ..security import csrf_matches, sha256
from .common import page_router, render, safe_next

router = page_router()


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/campaigns", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next_url=safe_next(next), email="", error=None)


@router.post("/login")
async def login(
    request: Request,
    ctx: ContextDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/campaigns",
) -> Response:
    """The same sign-in as POST /api/auth/login: the session and CSRF cookies."""
    target = safe_next(next)
    if not email.strip() or not password:
        return render(
            request,
            "login.html",
            status_code=422,
            next_url=target,
            email=email,
            error="Enter your email and your password.",
        )
    try:
        signed = await accounts.sign_in(
            ctx.pool,
            ctx.settings,
            ctx.jwt_keys,
            email=email.strip(),
            password=password,
            address=request.client.host if request.client else "unknown",
        )
    except ApiError as exc:
        message = (
            "Too many attempts. Wait a few minutes, then try again."
            if exc.status == 429
            else "That email and password do not match an account."
        )
        return render(
            request,
            "login.html",
            status_code=exc.status,
            next_url=target,
            email=email,
            error=message,
        )
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, ctx, signed)
    return response


@router.post("/logout")
async def logout(
    request: Request,
    ctx: ContextDep,
    csrf_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Ends the session; the CSRF token (form field or header) proves the page asked."""
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        async with ctx.pool.acquire() as conn:
            expected = await users.session_csrf(conn, sha256(session))
        presented = csrf_token or request.headers.get("x-csrf-token")
        if expected is not None and not csrf_matches(expected, presented):
            raise ApiError(403, "This sign-out request did not come from your dashboard.")
        await accounts.sign_out(ctx.pool, ctx.sessions, session_token=session)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookies(response)
    return response
