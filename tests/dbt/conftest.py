"""Fixtures for the dbt tests: one dbt build per engine per session, shared by every test in
tests/dbt (xdist group `dbt`).

A sandbox World is landed into a temporary DuckDB and the quality tables are filled from its truth
manifest (what the sandbox broke on purpose, its identity clusters), so these tests isolate dbt:
given a correct quality gate, do the marts reproduce the truth figures? When the session also runs
the Postgres tests, the raw and quality rows are copied to Postgres right after landing and both
engines build at the same time.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import uuid
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from extractors.landing import ensure_raw_table, land_records
from extractors.sandbox.world import World
from orchestration import dbt_cli
from extractors.streams import STREAMS, record_keys

SEED = 7
SCALE = 0.1
PG_DSN = os.environ.get("SFA_TEST_PG_DSN", "host=127.0.0.1 port=5432 dbname=test user=postgres")

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_BIN = dbt_cli.EXECUTABLE  # what the Dagster assets run

# Defect kinds a correct quality gate quarantines (error-level rules); the truth figures leave
# these records out. Identity duplicates, deletes and late updates are handled downstream.
ERROR_DEFECT_KINDS = ("missing_required", "invalid_value", "orphan")

QUALITY_DDL = [
    "create schema if not exists {schema}",
    """create table if not exists {schema}.quarantine_current (
        stream varchar not null, record_id varchar not null, rule varchar not null,
        severity varchar not null, reason varchar)""",
    """create table if not exists {schema}.identity_map (
        entity varchar not null, source varchar not null, record_id varchar not null,
        canonical_id varchar not null)""",
]

RAW_COLUMNS = ["_source", "_stream", "_batch_id", "_extracted_at", "_record_id", "_cursor", "_deleted", "_record"]


# Defect kinds that are not errors: handled by identity resolution, tombstones and versioning.
NON_ERROR_DEFECT_KINDS = ("identity_duplicate", "deleted", "duplicate_id", "late_update")


def _normalise(value: object) -> object:
    """Engines differ only in float noise and in timestamp/decimal classes; compare values."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, Decimal):
        return round(float(value), 6) if value != value.to_integral_value() or abs(value) < 1e15 else value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return value


def comparable_rows(cursor_rows: list[tuple]) -> list[tuple]:
    """Rows of one relation from either engine, normalised and sorted, to compare for equality."""
    normalised = [tuple(_normalise(v) for v in row) for row in cursor_rows]
    return sorted(normalised, key=lambda row: tuple((v is None, str(v)) for v in row))


def built_columns(con: duckdb.DuckDBPyConnection, *schemas: str) -> dict[str, list[str]]:
    """`schema.table` -> its columns in order, for every relation dbt built in `schemas`. Leaves out
    `refreshed_at`, which records when a row was written and so differs between builds by design."""
    out: dict[str, list[str]] = {}
    placeholders = ", ".join("?" for _ in schemas)
    for schema, table, column in con.execute(
            f"select table_schema, table_name, column_name from information_schema.columns "
            f"where table_schema in ({placeholders}) and column_name <> 'refreshed_at' "
            f"order by table_schema, table_name, ordinal_position", list(schemas)).fetchall():
        out.setdefault(f"{schema}.{table}", []).append(column)
    return out

def current_rows_sql(relation: str, columns: list[str], prefix: str = "") -> str:
    """The `select` of a built relation's rows to compare between builds: link tables keep the links
    an incremental run removed as rows (`is_removed`, int_crm__activity_links), which a rebuild
    never has."""
    where = " where not is_removed" if "is_removed" in columns else ""
    return f"select {', '.join(columns)} from {prefix}{relation}{where}"


def land_with_empty_quality(con: duckdb.DuckDBPyConnection, world: World, page_size: int) -> None:
    """Every stream of `world` into raw.* (each page of `page_size` records gets its own
    `_extracted_at`, so an incremental watermark re-reads only the last page) and empty quality tables."""
    for stream in world.streams():
        land_records(con, stream, world.pages(stream, size=page_size), source=world.source(stream),
                     keys=record_keys(stream))
    for stream in STREAMS:
        ensure_raw_table(con, stream)
    for statement in QUALITY_DDL:
        con.execute(statement.format(schema="quality"))

def land_world(con: duckdb.DuckDBPyConnection, seed: int, scale: float, advances: int = 1) -> dict:
    """Every stream of the World into raw.*, then again after each epoch advance (late updates,
    deletes, new records arrive as new versions), so staging must pick the latest version.
    Every contract table exists (empty if not served). Returns the truth of the last epoch."""
    world = World(seed=seed, scale=scale)
    for epoch in range(advances + 1):
        if epoch:
            world.advance()
        for stream in world.streams():
            land_records(con, stream, world.pages(stream), source=world.source(stream), keys=record_keys(stream))
    for stream in STREAMS:
        ensure_raw_table(con, stream)
    return world.truth()


def quarantine_rows(truth: Mapping) -> list[tuple[str, str, str, str, str]]:
    unknown = set(truth["defects"]) - set(ERROR_DEFECT_KINDS) - set(NON_ERROR_DEFECT_KINDS)
    if unknown:
        raise ValueError(f"truth has defect kinds this harness does not classify: {sorted(unknown)}")
    rows = []
    for kind in ERROR_DEFECT_KINDS:
        for stream, ids in truth["defects"].get(kind, {}).items():
            rows += [(stream, str(i), kind, "error", f"sandbox injected {kind}") for i in ids]
    return rows


def identity_rows(con: duckdb.DuckDBPyConnection, truth: Mapping) -> list[tuple[str, str, str, str]]:
    """One row per current lead, contact, account and ERP customer, as the quality layer writes it."""
    canonical: dict[tuple[str, str], str] = {}
    for stream in ("crm_leads", "crm_contacts"):
        for cluster in truth["clusters"].get(stream, []):
            head = min(str(i) for i in cluster)
            canonical.update({(stream, str(i)): head for i in cluster})
    for account_id, customer_id, _how in truth["links"]["account_customer"]:
        canonical[("erp_customers", str(customer_id))] = str(account_id)
    rows = []
    for stream, source in (("crm_leads", "crm"), ("crm_contacts", "crm"), ("crm_accounts", "crm"),
                           ("erp_customers", "erp")):
        ids = [r[0] for r in con.execute(f"select distinct _record_id from raw.{stream}").fetchall()]
        rows += [(stream, source, i, canonical.get((stream, i), i)) for i in ids]
    return rows


def write_quality_tables(con: duckdb.DuckDBPyConnection, truth: Mapping) -> None:
    for statement in QUALITY_DDL:
        con.execute(statement.format(schema="quality"))
    _insert(con, "quality.quarantine_current", ["stream", "record_id", "rule", "severity", "reason"],
            quarantine_rows(truth))
    _insert(con, "quality.identity_map", ["entity", "source", "record_id", "canonical_id"], identity_rows(con, truth))


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Bulk insert through Arrow (executemany is one statement per row)."""
    batch = pa.table({c: pa.array([r[i] for r in rows], pa.string()) for i, c in enumerate(columns)})
    con.register("_rows", batch)
    try:
        con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from _rows")
    finally:
        con.unregister("_rows")


class DbtRun:
    """One dbt command in a subprocess; target/ and logs/ go to `work_dir` so runs never collide.
    Started at construction so that two engines can build at the same time; `wait()` checks it."""

    def __init__(self, args: Iterable[str], env: Mapping[str, str], work_dir: Path) -> None:
        self.args = list(args)
        work_dir.mkdir(parents=True, exist_ok=True)
        self.output = work_dir / "dbt_output.txt"
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(_dbt_cmd(self.args, work_dir), env=_dbt_env(env), stdout=out,
                                            stderr=subprocess.STDOUT, text=True)

    def wait(self, timeout: float = 600) -> None:
        code = self.process.wait(timeout=timeout)
        if code != 0:
            tail = "\n".join(self.output.read_text().splitlines()[-60:])
            raise AssertionError(f"dbt {' '.join(self.args)} failed (exit {code}):\n{tail}")


def _dbt_cmd(args: Iterable[str], work_dir: Path, project_dir: Path = DBT_PROJECT_DIR) -> list[str]:
    return [str(DBT_BIN), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
            # The debug-level file log (every statement) costs CPU; the console output is kept.
            "--log-level-file", "info"]


def _dbt_env(env: Mapping[str, str]) -> dict[str, str]:
    return {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}


def run_dbt(args: Iterable[str], env: Mapping[str, str], work_dir: Path, timeout: float = 600) -> None:
    DbtRun(args, env, work_dir).wait(timeout)


def dbt_output(args: Iterable[str], env: Mapping[str, str], work_dir: Path,
               project_dir: Path = DBT_PROJECT_DIR) -> subprocess.CompletedProcess:
    """One dbt command whose exit code and console output the caller checks (a test expected to fail,
    or one run on a copy of the project)."""
    return subprocess.run(_dbt_cmd(args, work_dir, project_dir), env=_dbt_env(env), capture_output=True, text=True,
                          timeout=300)


def land_small_world(warehouse: Path) -> None:
    """A small World (seed 5, scale 0.02) into a new DuckDB file, quality tables empty."""
    con = duckdb.connect(str(warehouse))
    try:
        land_with_empty_quality(con, World(seed=5, scale=0.02), page_size=500)
    finally:
        con.close()


def copy_to_postgres(con: duckdb.DuckDBPyConnection, pg, schemas: Mapping[str, str]) -> None:
    """raw.* and quality.* from DuckDB into fresh Postgres schemas (COPY; `_record` as jsonb)."""
    with pg.cursor() as cur:
        for schema in schemas.values():
            cur.execute(f"create schema {schema}")
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall():
            cur.execute(
                f"create table {schemas['raw']}.{table} (_source varchar, _stream varchar, _batch_id varchar, "
                "_extracted_at timestamp, _record_id varchar, _cursor varchar, _deleted boolean, _record jsonb)"
            )
            _copy(con, cur, f"select {', '.join(RAW_COLUMNS)} from raw.{table}", f"{schemas['raw']}.{table}")
        for statement in QUALITY_DDL[1:]:
            cur.execute(statement.format(schema=schemas["quality"]))
        for table in ("quarantine_current", "identity_map"):
            _copy(con, cur, f"select * from quality.{table}", f"{schemas['quality']}.{table}")
    pg.commit()


def _copy(con: duckdb.DuckDBPyConnection, cur, query: str, target: str) -> None:
    frame = con.execute(query).df()
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    cur.copy_expert(f"copy {target} from stdin with (format csv)", buffer)


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
        copy_to_postgres(con, pg, schemas)
        state["run"] = DbtRun(
            ["build", "--target", "postgres"],
            {"SFA_SCHEMA_PREFIX": prefix, "SFA_RAW_SCHEMA": schemas["raw"], "SFA_QUALITY_SCHEMA": schemas["quality"],
             "SFA_AS_OF_DATE": as_of_date},
            work / "postgres",
        )
    except BaseException:
        drop_postgres(state)
        raise
    return state


def drop_postgres(state: dict) -> None:
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
        truth = land_world(con, SEED, SCALE)
        write_quality_tables(con, truth)
        as_of_date = truth["as_of"][:10]
        if _session_wants_postgres(request.session):
            postgres = _start_postgres(con, work, as_of_date)
            if postgres:
                request.addfinalizer(lambda: drop_postgres(postgres))
    finally:
        con.close()
    (work / "truth.json").write_text(json.dumps(truth, default=str))
    run_dbt(["build"], {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": as_of_date}, work / "duckdb")
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
