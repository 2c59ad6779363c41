"""battrace.ledger."""
