"""battrace.services."""
