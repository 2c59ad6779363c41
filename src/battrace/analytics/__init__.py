"""battrace.analytics."""
