"""battrace.domain."""
