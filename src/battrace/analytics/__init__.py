"""Read-only statistics over the store: overview counts, custody flows, scorecards, tables.

Every function takes a store and returns plain data; the queries are set-based SQLAlchemy
Core (a handful of GROUP BYs, no per-row round trips) and run unchanged on SQLite and
PostgreSQL. Nothing here writes, and nothing here decides who may see what: drivers ask
`services.access` first.
"""
