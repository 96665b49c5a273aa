"""What every dashboard form shares: read the posted fields, validate them with the API's own
models, put each error next to its field in words a person understands, and answer htmx.

A form page validates with the same pydantic model as its /api route and calls the same
handler, so rules, the audit log and catalog events cannot drift apart. Submissions arrive
through htmx (the CSRF header comes from <body hx-headers>): on an error the form comes back
re-rendered with its messages; on success an `HX-Redirect` sends the browser on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError

from pulse_runtime.errors import ApiError

from .common import Viewer, is_fragment_request, render

M = TypeVar("M", bound=BaseModel)

# What a field's pattern means, said the way the form asks for it.
PATTERN_HINTS = {
    "brand_color": "Use a hex colour like #4F46E5.",
    "logo_url": "Use an address starting with https://.",
    "avatar_url": "Use an address starting with https://.",
    "currency": "Use a three-letter ISO code in capitals, like EUR.",
    "handle": "Enter the handle without spaces or @.",
}
# Handler messages that deserve plainer words on a form.
KNOWN_MESSAGES = {
    "end_date must be on or after start_date": "The end date must be on or after the start date.",
}


class FormInvalid(Exception):
    """The submitted form has errors: field name → message, '' for the form as a whole."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def require_manager(viewer: Viewer) -> None:
    if not viewer.can_manage:
        raise ApiError(
            403, f"This needs the manager role or higher; you are {viewer.principal.role}."
        )


def require_owner(viewer: Viewer) -> None:
    if not viewer.is_owner:
        raise ApiError(403, f"Only owners manage this; you are {viewer.principal.role}.")


async def form_fields(request: Request) -> dict[str, str]:
    """The posted text fields, stripped (a file field is ignored)."""
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


async def form_lists(request: Request, *names: str) -> dict[str, list[str]]:
    form = await request.form()
    return {n: [v.strip() for v in form.getlist(n) if isinstance(v, str)] for n in names}


def optional_text(values: dict[str, str], name: str) -> str | None:
    """An empty box means 'not set'."""
    return values.get(name) or None


def money_cents(values: dict[str, str], name: str, errors: dict[str, str]) -> int | None:
    """'1,500.50' in the currency's units → 150050 cents; empty → None."""
    raw = values.get(name, "").replace(",", "").replace(" ", "")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        errors[name] = "Enter an amount like 1500 or 1500.50."
        return None
    if amount < 0:
        errors[name] = "The amount cannot be negative."
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors[name] = "Use at most two decimals."
        return None
    return int(amount * 100)


def whole_number(values: dict[str, str], name: str, errors: dict[str, str]) -> int | None:
    """'250,000' → 250000; empty → None; anything else is an error on that field."""
    raw = values.get(name, "").replace(",", "").replace(" ", "").replace("_", "")
    if not raw:
        return None
    if not raw.isdigit():
        errors[name] = "Enter a whole number, like 250000."
        return None
    return int(raw)


def decimal_number(values: dict[str, str], name: str, errors: dict[str, str]) -> float | None:
    raw = values.get(name, "").replace(",", ".").replace("%", "").strip()
    if not raw:
        return None
    try:
        return float(Decimal(raw))
    except InvalidOperation:
        errors[name] = "Enter a number, like 3.5."
        return None


def validate(model: type[M], payload: dict[str, Any], errors: dict[str, str]) -> M:
    """The API's model over the form's payload; every problem becomes a field message.
    Raises FormInvalid when anything (including earlier conversions) went wrong."""
    try:
        result = model.model_validate(payload)
    except ValidationError as exc:
        for problem in exc.errors():
            field = _field_of(problem["loc"])
            errors.setdefault(field, _message(problem, field))
        raise FormInvalid(errors) from exc
    if errors:
        raise FormInvalid(errors)
    return result


def _field_of(loc: tuple[int | str, ...]) -> str:
    """'handles.1.followers' for a row of a list; the field name otherwise."""
    return ".".join(str(part) for part in loc) if loc else ""


def _message(problem: Any, field: str) -> str:
    kind = problem["type"]
    ctx = problem.get("ctx") or {}
    leaf = field.rsplit(".", 1)[-1]
    if kind == "missing" or (problem.get("input") is None and kind.endswith("_type")):
        return "This is required."
    if kind == "string_too_short":
        return (
            "This is required."
            if ctx.get("min_length") == 1
            else (f"Use at least {ctx.get('min_length')} characters.")
        )
    if kind == "string_too_long":
        return f"Use at most {ctx.get('max_length')} characters."
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(leaf, "This is not in the expected format.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "Enter a whole number."
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return "Enter a number."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Enter {_num(ctx.get('ge', ctx.get('gt')))} or more."
    if kind in ("less_than_equal", "less_than"):
        return f"Enter {_num(ctx.get('le', ctx.get('lt')))} or less."
    if kind.startswith("date") or kind.startswith("datetime"):
        return "Enter a valid date."
    if kind.startswith("uuid"):
        return "Choose one of the options."
    if kind in ("literal_error", "enum"):
        return "Choose one of the options."
    if kind == "too_long":
        return f"At most {ctx.get('max_length')} entries."
    if kind == "value_error":
        text = str(problem.get("msg", "")).removeprefix("Value error, ")
        if "email" in text.lower():
            return "Enter a valid email address."
        return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return str(problem.get("msg", "This value is not valid."))


def _num(value: object) -> str:
    """100.0 reads as 100; big limits get thousands separators."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def handler_errors(exc: ApiError) -> dict[str, str]:
    """A handler's refusal as form errors: 422 details onto their fields, the rest on top."""
    errors: dict[str, str] = {}
    if exc.status == 422:
        for detail in exc.details:
            if isinstance(detail, dict) and detail.get("path"):
                field = str(detail["path"]).removeprefix("body.")
                message = str(detail.get("message") or exc.message)
                errors[field] = KNOWN_MESSAGES.get(message, _sentence(message))
    if not errors:
        errors[""] = KNOWN_MESSAGES.get(exc.message, _sentence(exc.message))
    return errors


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")) or text


def done(request: Request, location: str) -> Response:
    """Success: htmx follows HX-Redirect; a plain form post gets a 303."""
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_status(request: Request) -> int:
    """htmx swaps only successful answers, so a form with errors comes back as 200 to it;
    anything else hears 422."""
    return 200 if request.headers.get("hx-request") else 422


def form_page(
    request: Request, template: str, errors: dict[str, str], *, status: int = 200, **context: Any
) -> Response:
    """The whole page, or (for an htmx submit) the form alone, with its messages."""
    fragment = is_fragment_request(request) and request.method == "POST"
    name = template.replace(".html", "_form.html") if fragment else template
    return render(request, name, status_code=status, errors=errors, **context)


async def form_post(
    request: Request,
    template: str,
    context: dict[str, Any],
    submit: Callable[[], Awaitable[str]],
    *,
    worded: Callable[[dict[str, str]], dict[str, str]] | None = None,
) -> Response:
    """Every form's submit: `submit` validates, calls the handler and returns where to go
    next; a FormInvalid, or a handler's 409 or 422, comes back as the same form with each
    message beside its field (`worded` renames fields the form shows differently, e.g. a fee
    in units for the model's cents). Any other refusal propagates as the page's error."""
    try:
        location = await submit()
    except FormInvalid as exc:
        errors = exc.errors
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        errors = handler_errors(exc)
    else:
        return done(request, location)
    if worded is not None:
        errors = worded(errors)
    return form_page(request, template, errors, status=error_status(request), **context)


def units(cents: int | None) -> str:
    """Cents as the amount a form shows: 150000 → "1500", 1999 → "19.99"."""
    return "" if cents is None else f"{cents / 100:.2f}".removesuffix(".00")
