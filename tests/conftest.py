"""Shared fixtures: temporary warehouses and the local PostgreSQL (127.0.0.1:5432, db test, user postgres)."""

from __future__ import annotations

import os

import pytest

PG_DSN = os.environ.get("SFA_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")


def postgres_reachable() -> str | None:
    """None when the server answers, else the reason it does not."""
    import psycopg2

    try:
        psycopg2.connect(PG_DSN, connect_timeout=3).close()
    except psycopg2.Error as exc:
        return str(exc).strip()
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    reason = postgres_reachable()
    if reason:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 (db test, user postgres) is not reachable: {reason}")
    return PG_DSN
