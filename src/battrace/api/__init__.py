"""battrace.api."""
