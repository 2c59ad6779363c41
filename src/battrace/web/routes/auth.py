"""Sign-in with an API key (→ a signed session cookie), sign-out, and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from battrace.services import apikeys
from battrace.web import session
from battrace.web.context import State, Web, Who, finish, render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only local paths: never redirect to another site after sign-in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/")
def home(request: Request, who: Who) -> Response:
    """Regulators start on the overview, enterprises on their scorecard, the public on the
    lookup page."""
    if who.principal.is_regulator:
        target = "/overview"
    elif who.enterprise is not None:
        target = f"/enterprises/{who.enterprise}"
    else:
        target = "/b"
    return finish(RedirectResponse(target, status_code=303), who)


@router.get("/signin")
def signin_form(request: Request, who: Who, next: str | None = None) -> Response:
    """The sign-in form."""
    return render(request, who, "signin.html", next=_safe_next(next), failed=False)


@router.post("/signin")
def signin(
    request: Request,
    who: Who,
    state: State,
    web: Web,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    """Check the key once; on success set the session cookie (the key is not kept)."""
    found = apikeys.authenticate(state.store, key.strip())
    if found is None:
        return render(
            request, who, "signin.html", status_code=401, next=_safe_next(next), failed=True
        )
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        session.COOKIE,
        session.issue(web.secret, key_id=found.key_id, enterprise=found.enterprise),
        max_age=session.MAX_AGE_S,
        httponly=True,
        samesite="lax",
        # behind a TLS proxy the request arrives as http: the configured address says https
        secure=request.url.scheme == "https"
        or (state.settings.public_url or "").startswith("https://"),
        path="/",
    )
    return finish(resp, who)


@router.post("/signout")
def signout(
    request: Request,
    who: Who,
    web: Web,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """End the session (the form carries its token: another site cannot sign a viewer out).
    Sessions are signed cookies, not server records: a copy of the cookie taken before
    sign-out works until it expires (10 h) unless the key is revoked (docs/dashboard.md)."""
    if who.session is not None and not session.check_csrf(web.secret, who.session, csrf):
        return RedirectResponse("/b", status_code=303)  # a forged sign-out changes nothing
    resp = RedirectResponse("/b", status_code=303)
    resp.delete_cookie(session.COOKIE, path="/")
    return finish(resp, who)
