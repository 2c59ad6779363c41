"""What every page needs: the app's state, the viewer (who, in which language), templates.

The viewer comes from the signed session cookie (`session.py`): its key is re-read and turned
into an `access.Principal` exactly as the API's bearer keys are, so the same tier decisions
(`services.access`) apply to the dashboard and the API.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from jinja2.utils import htmlsafe_json_dumps

from battrace.api.state import ApiState
from battrace.errors import NotFound
from battrace.services import access, apikeys
from battrace.services.common import CST
from battrace.web import i18n, session
from battrace.web.cache import StatsCache, store_version

TEMPLATES = Path(__file__).parent / "templates"
#: scripts only from this origin; styles may be set by the chart library at run time
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def script_json(value: Any) -> str:
    """`value` as JSON to put inside `<script type="application/json">`, marked safe for the
    templates: `<`, `>`, `&`, `'` (Jinja's `htmlsafe_json_dumps`) and U+2028/U+2029 become
    `\\u` escapes, so a name from the data (an enterprise called `</script><h1>`) cannot end
    the element, and `JSON.parse` reads the same value back. Pages embed JSON only this way
    (`{{ charts | script_json }}`)."""
    return htmlsafe_json_dumps(value, dumps=_dumps)


def _dumps(value: Any, **kw: Any) -> str:
    return (
        json.dumps(value, ensure_ascii=False, **kw)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def environment() -> jinja2.Environment:
    """The templates, autoescaped, with the `script_json` filter."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html", "svg")),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["script_json"] = script_json
    return env


@dataclass
class WebState:
    """Per-app dashboard state: the session secret, the statistics cache, the templates."""

    secret: bytes
    cache: StatsCache = field(default_factory=StatsCache)
    env: jinja2.Environment = field(default_factory=environment)


_LOCK = threading.Lock()


def get_state(request: Request) -> ApiState:
    """The API's state (store, policy, ingest path) that `create_app` built."""
    state: ApiState = request.app.state.battrace
    return state


def web_state(request: Request) -> WebState:
    """The app's dashboard state, made on first use."""
    app_state = request.app.state
    ws: WebState | None = getattr(app_state, "battrace_web", None)
    if ws is None:
        with _LOCK:
            ws = getattr(app_state, "battrace_web", None)
            if ws is None:
                ws = WebState(session.load_secret(get_state(request).settings.key_dir))
                app_state.battrace_web = ws
    return ws


@dataclass
class Viewer:
    """The person looking: their principal, language, enterprise name and form token."""

    principal: access.Principal
    lang: str
    session: session.Session | None
    name: str | None
    csrf: str
    #: set when the language came from the query string: the response stores it
    set_lang: bool = False

    @property
    def tier(self) -> str:
        """public, enterprise or regulator."""
        return self.principal.tier.value

    @property
    def enterprise(self) -> str | None:
        """The signed-in enterprise's USCC."""
        return self.principal.enterprise


def viewer(request: Request) -> Viewer:
    """The viewer of this request (public when not signed in or the session is stale)."""
    ws = web_state(request)
    state = get_state(request)
    s = session.read(ws.secret, request.cookies.get(session.COOKIE))
    principal = access.PUBLIC
    name = None
    if s is not None:
        try:
            key = apikeys.find_key(state.store, s.key_id)
        except NotFound:
            key = None
        if key is not None and key.active and key.enterprise == s.enterprise:
            principal = access.Principal.from_key(state.store, key)
            name = _enterprise_name(request, key.enterprise)
        else:
            s = None
    query_lang = i18n.pick_lang(request.query_params.get("lang"))
    lang = (
        query_lang or i18n.pick_lang(request.cookies.get(session.LANG_COOKIE)) or i18n.DEFAULT_LANG
    )
    request.state.principal = principal
    return Viewer(
        principal, lang, s, name, session.csrf_token(ws.secret, s), query_lang is not None
    )


def _enterprise_name(request: Request, uscc: str) -> str | None:
    from battrace.services import registry_view

    try:
        return str(registry_view.enterprise(get_state(request).store, uscc)["name"])
    except NotFound:
        return None


State = Annotated[ApiState, Depends(get_state)]
Web = Annotated[WebState, Depends(web_state)]
Who = Annotated[Viewer, Depends(viewer)]


def cached(request: Request, key: Any, compute: Any) -> Any:
    """`compute()` cached for the store's current version."""
    state = get_state(request)
    return web_state(request).cache.get(key, store_version(state.store), compute)


def render(
    request: Request,
    who: Viewer,
    template: str,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    """Render a page in the viewer's language, with the helpers templates use."""
    ws = web_state(request)
    lang = who.lang

    def url_with(**changes: Any) -> str:
        params = dict(request.query_params)
        for k, v in changes.items():
            if v is None:
                params.pop(k, None)
            else:
                params[k] = str(v)
        q = urllib.parse.urlencode(params)
        return request.url.path + (f"?{q}" if q else "")

    html = ws.env.get_template(template).render(
        who=who,
        lang=lang,
        t=lambda key, **kw: i18n.t(key, lang, **kw),
        term=lambda v: i18n.term(v, lang),
        rule_title=lambda r: _rule_title(r, lang),
        url_with=url_with,
        path=request.url.path,
        fmt_num=fmt_num,
        fmt_time=fmt_time,
        **ctx,
    )
    resp = HTMLResponse(html, status_code=status_code)
    finish(resp, who)
    return resp


def finish(resp: Response, who: Viewer) -> Response:
    """Security headers, and the language cookie when the query chose one."""
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "same-origin"
    resp.headers.setdefault("Cache-Control", "no-store")
    if who.set_lang:
        resp.set_cookie(
            session.LANG_COOKIE, who.lang, max_age=365 * 86400, samesite="lax", httponly=True
        )
    return resp


def _rule_title(rule: str | None, lang: str) -> str:
    from battrace.domain.rules import RULES

    r = RULES.get(rule or "")
    if r is None:
        return rule or "—"
    return f"{r.id} · {r.title_zh if lang == 'zh' else r.title_en}"


def fmt_num(value: Any, digits: int = 0) -> str:
    """A number with thousands separators ('—' for none)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if digits:
        return f"{value:,.{digits}f}"
    return f"{value:,.0f}" if isinstance(value, float) else f"{value:,}"


def fmt_time(value: Any) -> str:
    """An RFC 3339 time or epoch µs as `YYYY-MM-DD HH:MM` in China Standard Time."""
    if value is None or value == "":
        return "—"
    if isinstance(value, int):
        when = dt.datetime.fromtimestamp(value / 1e6, dt.UTC)
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if when.tzinfo is None:
        return when.strftime("%Y-%m-%d %H:%M")
    return when.astimezone(CST).strftime("%Y-%m-%d %H:%M")
