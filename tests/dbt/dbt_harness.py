"""Build a warehouse for the dbt tests: land a sandbox World, fake a correct quality gate, run dbt.

The quality tables are filled from the truth manifest (what the sandbox broke on purpose and its
identity clusters), so these tests isolate dbt: given a correct quality gate, do the marts
reproduce the truth figures?
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from extractors.landing import ensure_raw_table, land_records
from extractors.sandbox.world import World
from extractors.streams import STREAMS, record_keys

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_BIN = Path(sys.executable).with_name("dbt")

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
        cmd = [str(DBT_BIN), *self.args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
               str(DBT_PROJECT_DIR), "--target-path", str(work_dir / "target"), "--log-path", str(work_dir / "logs"),
               # The debug-level file log (every statement) costs CPU; the console output is kept.
               "--log-level-file", "info"]
        full_env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env}
        with open(self.output, "w") as out:
            self.process = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, text=True)

    def wait(self, timeout: float = 600) -> None:
        code = self.process.wait(timeout=timeout)
        if code != 0:
            tail = "\n".join(self.output.read_text().splitlines()[-60:])
            raise AssertionError(f"dbt {' '.join(self.args)} failed (exit {code}):\n{tail}")


def run_dbt(args: Iterable[str], env: Mapping[str, str], work_dir: Path) -> None:
    DbtRun(args, env, work_dir).wait()


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
