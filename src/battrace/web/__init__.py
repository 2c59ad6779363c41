"""The dashboard: server-rendered pages (Jinja2) for regulators, enterprises and the public.

`create_app` (battrace.api.app) includes `router` and serves `STATIC_DIR` at `/static`; every
asset (CSS, scripts, the vendored chart library) ships in this package. docs/dashboard.md
describes the pages and the choices behind them.
"""

from __future__ import annotations

from pathlib import Path

from battrace.web.pages import browser_error
from battrace.web.routes import build_router

STATIC_DIR = Path(__file__).parent / "static"
router = build_router()

__all__ = ["STATIC_DIR", "browser_error", "router"]
