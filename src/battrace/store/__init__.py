"""battrace.store."""
