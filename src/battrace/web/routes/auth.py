"""Sign-in with an API key (→ a signed session cookie), sign-out, and the start page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from battrace.services import apikeys
from battrace.web import session
from battrace.web.context import State, Viewer, Web, WebState, Who, finish, render

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
def signin_form(
    request: Request, who: Who, state: State, web: Web, next: str | None = None
) -> Response:
    """The sign-in form (with its pre-session cookie and token)."""
    return _signin_page(request, who, state, web, next=next)


@router.post("/signin")
def signin(
    request: Request,
    who: Who,
    state: State,
    web: Web,
    key: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
    csrf: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    """Check the key once; on success set the session cookie (the key is not kept).

    Only the form this site served may sign in: it carries the token of the pre-session
    cookie, which a post from another site does not bring along (login CSRF)."""
    cookie = request.cookies.get(session.SIGNIN_COOKIE)
    if not session.check_signin(web.secret, cookie, csrf):
        return _signin_page(request, who, state, web, next=next, status_code=403, refused=True)
    found = apikeys.authenticate(state.store, key.strip())
    if found is None:
        return _signin_page(request, who, state, web, next=next, status_code=401, failed=True)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    resp.set_cookie(
        session.COOKIE,
        session.issue(web.secret, key_id=found.key_id, enterprise=found.enterprise),
        max_age=session.MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=_secure(request, state.settings.public_url),
        path="/",
    )
    resp.delete_cookie(session.SIGNIN_COOKIE, path="/signin")
    return finish(resp, who)


def _signin_page(
    request: Request,
    who: Viewer,
    state: State,
    web: WebState,
    *,
    next: str | None,
    status_code: int = 200,
    failed: bool = False,
    refused: bool = False,
) -> Response:
    """The sign-in form; its pre-session cookie is kept while it has more than half its life
    left (two open tabs both work), and renewed otherwise."""
    cookie = request.cookies.get(session.SIGNIN_COOKIE)
    if cookie is not None and session.signin_cookie_left(cookie) <= session.SIGNIN_MAX_AGE_S / 2:
        cookie = None  # expired, or past half its life: a new one
    renew = cookie is None
    if cookie is None:
        cookie = session.signin_cookie()
    resp = render(
        request,
        who,
        "signin.html",
        status_code=status_code,
        next=_safe_next(next),
        failed=failed,
        refused=refused,
        signin_token=session.signin_token(web.secret, cookie),
    )
    if renew:
        resp.set_cookie(
            session.SIGNIN_COOKIE,
            cookie,
            max_age=session.SIGNIN_MAX_AGE_S,
            httponly=True,
            samesite="strict",
            secure=_secure(request, state.settings.public_url),
            path="/signin",
        )
    return resp


def _secure(request: Request, public_url: str | None) -> bool:
    """Cookies are Secure over HTTPS; behind a TLS proxy the request arrives as http, and the
    configured address says https."""
    return request.url.scheme == "https" or (public_url or "").startswith("https://")


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
