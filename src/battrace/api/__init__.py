"""battrace.api: the HTTP API (FastAPI). Build it with `create_app(settings)`."""

from battrace.api.app import create_app
from battrace.api.state import ApiOptions

__all__ = ["ApiOptions", "create_app"]
