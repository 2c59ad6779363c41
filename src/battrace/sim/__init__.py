"""battrace.sim."""
