"""One dbt build per engine per session, shared by every test in tests/dbt (xdist group `dbt`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

import dbt_harness as harness

SEED = 7
SCALE = 0.1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("dbt"))


@pytest.fixture(scope="session")
def duckdb_build(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A DuckDB warehouse with the World landed, quality tables filled from the truth, dbt built."""
    work = tmp_path_factory.mktemp("dbt_duckdb")
    warehouse = work / "sfa.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        truth = harness.land_world(con, SEED, SCALE)
        harness.write_quality_tables(con, truth)
    finally:
        con.close()
    (work / "truth.json").write_text(json.dumps(truth, default=str))
    as_of_date = truth["as_of"][:10]
    harness.run_dbt(["build"], {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": as_of_date}, work)
    return {"warehouse": warehouse, "truth": truth, "work": work, "as_of_date": as_of_date}


@pytest.fixture(scope="session")
def duckdb_con(duckdb_build: dict) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(duckdb_build["warehouse"]), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="session")
def postgres_build(duckdb_build: dict, duckdb_con: duckdb.DuckDBPyConnection, postgres_dsn: str) -> Iterator[dict]:
    """The same raw and quality rows copied into fresh Postgres schemas, dbt built there too."""
    import psycopg2

    prefix = f"sfa_t{uuid.uuid4().hex[:8]}_"
    schemas = {"raw": prefix + "raw", "quality": prefix + "quality"}
    pg = psycopg2.connect(postgres_dsn)
    try:
        harness.copy_to_postgres(duckdb_con, pg, schemas)
        work = duckdb_build["work"].parent / (prefix + "pg")
        work.mkdir()
        harness.run_dbt(
            ["build", "--target", "postgres"],
            {"SFA_SCHEMA_PREFIX": prefix, "SFA_RAW_SCHEMA": schemas["raw"], "SFA_QUALITY_SCHEMA": schemas["quality"],
             "SFA_AS_OF_DATE": duckdb_build["as_of_date"]},
            work,
        )
        yield {"pg": pg, "prefix": prefix}
    finally:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute(
                "select nspname from pg_namespace where nspname like %s", [prefix.replace("_", r"\_") + "%"]
            )
            for (schema,) in cur.fetchall():
                cur.execute(f"drop schema {schema} cascade")
        pg.commit()
        pg.close()
