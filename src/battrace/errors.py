"""The exception tree of battrace. Foreign errors are translated into these at the boundary.

    BattraceError
    ├── ConfigError            bad settings, policy or table files
    ├── StoreError             the store cannot be used (missing, wrong schema, unreachable)
    │   └── SchemaError        the store's schema is not at the version this code expects
    ├── NotFound               a code, VIN, enterprise, event or checkpoint that does not exist
    ├── IntegrityViolation     the log or its checkpoints do not verify
    ├── SigningKeyError        signing-key problems (missing, unsafe permissions, malformed)
    ├── AccessDenied           the caller may not do or see this
    └── InvalidInput           a malformed argument from a person or a client

Rejections of events are *results* (with reasons), not exceptions: a batch with bad events
is a normal outcome.
"""

from __future__ import annotations


class BattraceError(Exception):
    """Root of every error battrace raises on purpose."""

    #: stable machine-readable kind, used for RFC 9457 `type` URIs and CLI messages
    kind: str = "error"


class ConfigError(BattraceError):
    """A settings, policy or table file is missing or invalid."""

    kind = "config"


class StoreError(BattraceError):
    """The store cannot be used."""

    kind = "store"


class SchemaError(StoreError):
    """The store's schema version does not match this code."""

    kind = "schema"


class NotFound(BattraceError):
    """The thing asked for does not exist."""

    kind = "not-found"


class IntegrityViolation(BattraceError):
    """The log or its checkpoints do not verify."""

    kind = "integrity"


class SigningKeyError(BattraceError):
    """The signing key is missing, malformed or stored unsafely."""

    kind = "signing-key"


class AccessDenied(BattraceError):
    """The caller may not do or see this."""

    kind = "access-denied"


class InvalidInput(BattraceError):
    """An argument given by a person or a client is malformed."""

    kind = "invalid-input"
