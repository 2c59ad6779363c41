"""battrace.interop."""
