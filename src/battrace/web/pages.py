"""Helpers the page routes share: HTML error pages, paging, dates from forms."""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import urllib.parse
from collections.abc import Callable
from typing import Any, Literal, TypeVar, get_args

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from battrace.errors import AccessDenied, BattraceError, InvalidInput, NotFound
from battrace.web import i18n
from battrace.web.context import Viewer, finish, render

F = TypeVar("F", bound=Callable[..., Any])
PAGE = 50

#: the kinds of error page; each has a title and a lead sentence `{title}_lead` in `i18n`
ErrorTitle = Literal["not_found", "access_denied", "error", "server_error"]
ERROR_TITLES: tuple[ErrorTitle, ...] = get_args(ErrorTitle)
_TITLES: dict[int, ErrorTitle] = {404: "not_found", 403: "access_denied"}


def html_errors(fn: F) -> F:
    """Turn battrace errors raised by a page into an HTML page (404, 403, 422), and a refusal
    to an anonymous viewer into the sign-in page."""

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Response:
            try:
                return await fn(*args, **kwargs)  # type: ignore[no-any-return]
            except BattraceError as exc:
                return _page_for(exc, kwargs["request"], kwargs["who"])

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)  # type: ignore[no-any-return]
        except BattraceError as exc:
            return _page_for(exc, kwargs["request"], kwargs["who"])

    return wrapper  # type: ignore[return-value]


#: paths that answer machines only: their errors stay RFC 9457 problem documents
_MACHINE_PATHS = ("/v1/", "/openapi", "/docs", "/redoc", "/metrics", "/static/")


def browser_error(request: Request, status: int, detail: str) -> Response | None:
    """An error the app's handlers met outside any page (an unknown URL, a malformed path
    parameter) as the localized HTML error page, when a browser asked for a page; None for
    API clients, which get the problem document."""
    path = request.url.path
    if path.startswith(_MACHINE_PATHS) or "text/html" not in request.headers.get("accept", ""):
        return None
    from battrace.web.context import viewer

    title = _TITLES.get(status) or ("server_error" if status >= 500 else "error")
    return error_page(request, viewer(request), status, title, detail)


def _page_for(exc: BattraceError, request: Request, who: Viewer) -> Response:
    if isinstance(exc, AccessDenied):
        if who.principal.is_public:
            nxt = urllib.parse.quote(request.url.path)
            return finish(RedirectResponse(f"/signin?next={nxt}", status_code=303), who)
        return error_page(request, who, 403, "access_denied", str(exc))
    if isinstance(exc, NotFound):
        return error_page(request, who, 404, "not_found", str(exc))
    if isinstance(exc, InvalidInput):
        return error_page(request, who, 422, "error", str(exc))
    return error_page(request, who, 500, "server_error", str(exc))


def error_page(
    request: Request, who: Viewer, status: int, title: ErrorTitle, detail: str
) -> Response:
    """An error page in the viewer's language. The detail comes from the service, in
    English: the page leads with a sentence in the viewer's language on what kind of error
    it is."""
    return render(
        request,
        who,
        "error.html",
        status_code=status,
        title=i18n.t(title, who.lang),
        lead=i18n.t(f"{title}_lead", who.lang),
        detail=detail,
    )


def parse_day(value: str | None) -> dt.date | None:
    """A YYYY-MM-DD form value (None when empty); InvalidInput otherwise."""
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:  # 9999-12-31 overflowed the end-of-day arithmetic
        raise InvalidInput(f"{value} is outside {FIRST_DAY} … {LAST_DAY}")
    return day


#: the days a filter may name (power batteries with codes began in 2018)
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2199, 12, 31)
#: a paging offset past any table (an offset past a 64-bit integer was a 500 from the database)
MAX_OFFSET = 2**31


def parse_offset(value: str | None) -> int:
    """A non-negative paging offset."""
    try:
        return min(MAX_OFFSET, max(0, int(value or 0)))
    except ValueError:
        return 0


def pager(offset: int, shown: int, total: int, limit: int = PAGE) -> dict[str, Any]:
    """Where a page of a table starts and ends, and the neighbouring offsets."""
    return {
        "a": offset + 1 if shown else 0,
        "b": offset + shown,
        "n": total,
        "prev": max(0, offset - limit) if offset > 0 else None,
        "next": offset + limit if offset + limit < total else None,
    }
