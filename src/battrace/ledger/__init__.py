"""The tamper-evident log's pure core (stdlib + cryptography only); docs/transparency-log.md.

    canonical    RFC 8785 canonical JSON: the bytes that are hashed
    merkle       RFC 9162 Merkle tree: frontier, stored-node scheme, proofs, verification
    keys         Ed25519 note keys (golang.org/x/mod/sumdb/note formats) and key files
    checkpoint   C2SP signed notes and tlog checkpoints
    documents    leaf definition, receipts, history bundles and their offline verification

Import from the modules; this package imports nothing so that `canonical` stays cheap.
"""
