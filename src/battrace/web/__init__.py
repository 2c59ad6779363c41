"""battrace.web."""
