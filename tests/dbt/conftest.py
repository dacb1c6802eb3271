"""One dbt build per engine per session, shared by every test in tests/dbt (xdist group `dbt`).

When the session also runs the Postgres tests, the raw and quality rows are copied to Postgres
right after landing and both engines build at the same time.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import dbt_harness as harness

SEED = 7
SCALE = 0.1
PG_DSN = os.environ.get("SFA_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("dbt"))


def _session_wants_postgres(session: pytest.Session) -> bool:
    here = Path(__file__).parent
    return any(here in Path(i.fspath).parents and i.get_closest_marker("postgres") for i in session.items)


def _start_postgres(con: duckdb.DuckDBPyConnection, work: Path, as_of_date: str) -> dict | None:
    """Copy raw + quality into fresh Postgres schemas and start dbt there; None if unreachable."""
    import psycopg2

    try:
        pg = psycopg2.connect(PG_DSN, connect_timeout=3)
    except psycopg2.Error:
        return None
    prefix = f"sfa_t{uuid.uuid4().hex[:8]}_"
    schemas = {"raw": prefix + "raw", "quality": prefix + "quality"}
    state = {"pg": pg, "prefix": prefix}
    try:
        harness.copy_to_postgres(con, pg, schemas)
        state["run"] = harness.DbtRun(
            ["build", "--target", "postgres"],
            {"SFA_SCHEMA_PREFIX": prefix, "SFA_RAW_SCHEMA": schemas["raw"], "SFA_QUALITY_SCHEMA": schemas["quality"],
             "SFA_AS_OF_DATE": as_of_date},
            work / "postgres",
        )
    except BaseException:
        _drop_postgres(state)
        raise
    return state


def _drop_postgres(state: dict) -> None:
    pg, prefix = state["pg"], state["prefix"]
    run = state.get("run")
    if run and run.process.poll() is None:
        run.process.kill()
        run.process.wait()
    pg.rollback()
    with pg.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname like %s", [prefix.replace("_", r"\_") + "%"])
        for (schema,) in cur.fetchall():
            cur.execute(f"drop schema {schema} cascade")
    pg.commit()
    pg.close()


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict:
    """A DuckDB warehouse with the World landed, quality tables filled from the truth, dbt built."""
    work = tmp_path_factory.mktemp("dbt_build")
    warehouse = work / "sfa.duckdb"
    con = duckdb.connect(str(warehouse))
    postgres = None
    try:
        truth = harness.land_world(con, SEED, SCALE)
        harness.write_quality_tables(con, truth)
        as_of_date = truth["as_of"][:10]
        if _session_wants_postgres(request.session):
            postgres = _start_postgres(con, work, as_of_date)
            if postgres:
                request.addfinalizer(lambda: _drop_postgres(postgres))
    finally:
        con.close()
    (work / "truth.json").write_text(json.dumps(truth, default=str))
    harness.run_dbt(["build"], {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": as_of_date}, work / "duckdb")
    return {"warehouse": warehouse, "truth": truth, "work": work, "as_of_date": as_of_date, "postgres": postgres}


@pytest.fixture(scope="session")
def duckdb_con(duckdb_build: dict) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(duckdb_build["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def postgres_build(duckdb_build: dict, postgres_dsn: str) -> dict:
    """The same raw and quality rows built by dbt-postgres (started beside the DuckDB build)."""
    state = duckdb_build["postgres"]
    if state is None:
        pytest.fail("Postgres answered the session check but not the build's connection attempt")
    state["run"].wait()
    return state
