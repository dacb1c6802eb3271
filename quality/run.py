"""Public entry points: validate one stream, or run the whole quality layer over a warehouse."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from quality.expectations import GXRuleOutcome, drop_work_tables, run_expectations
from quality.schema import RuleSet, load_rulesets
from quality.tables import connect, raw_tables
from quality.validate import StreamResult, evaluate_stream, failures_table, record_outcome, work_table

Warehouse = str | Path | duckdb.DuckDBPyConnection


@dataclass
class QualityReport:
    run_id: str
    run_at: dt.datetime
    streams: dict[str, StreamResult] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # declared streams with no raw table yet
    docs_index: Path | None = None
    gx: list[GXRuleOutcome] = field(default_factory=list)
    identity: dict[str, int] | None = None

    @property
    def blocks(self) -> bool:
        return any(s.blocks for s in self.streams.values())

    @property
    def error_failures(self) -> int:
        return sum(s.error_rows for s in self.streams.values())


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def default_docs_dir(con: duckdb.DuckDBPyConnection) -> Path:
    """`<warehouse folder>/quality/data_docs`, beside the DuckDB file."""
    path = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()[0]
    base = Path(path).resolve().parent if path else Path.cwd() / "warehouse"
    return base / "quality" / "data_docs"


def validate_streams(
    warehouse: Warehouse,
    streams: Iterable[str] | None = None,
    *,
    run_id: str | None = None,
    docs_dir: str | Path | None = None,
    great_expectations: bool | Iterable[str] = True,
    rulesets: dict[str, RuleSet] | None = None,
) -> QualityReport:
    """Evaluate the rules of the given streams (default: every declared stream that has landed).

    `great_expectations`: True validates every evaluated stream with GE and builds the Data
    Docs, False none, or a collection of stream names to validate with GE.
    """
    con = connect(warehouse)
    rulesets = rulesets or load_rulesets()
    report = QualityReport(run_id=run_id or new_run_id(), run_at=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    existing = raw_tables(con)
    wanted = list(streams) if streams is not None else sorted(rulesets)
    unknown = [s for s in wanted if s not in rulesets]
    if unknown:
        raise KeyError(f"no rule file for stream(s) {unknown} in quality/rules/")
    present = [rulesets[s] for s in wanted if s in existing]
    report.skipped = [s for s in wanted if s not in existing]
    gx_sets = _gx_selection(present, great_expectations)
    gx_names = {r.stream for r in gx_sets}
    try:
        for ruleset in present:
            persist = ruleset.stream in gx_names
            # one transaction per stream: its outcome tables change together, and one commit is cheap
            con.execute("begin")
            try:
                evaluate_stream(con, ruleset, rulesets, existing, persist=persist)
                report.streams[ruleset.stream] = record_outcome(
                    con, ruleset, report.run_id, report.run_at, persist=persist
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        if gx_sets:
            docs = Path(docs_dir) if docs_dir else default_docs_dir(con)
            report.gx, report.docs_index = run_expectations(
                con,
                gx_sets,
                run_id=report.run_id,
                docs_dir=docs,
                store_dir=docs.parent / "gx_store",
                ref_context={"rulesets": rulesets, "existing_tables": existing},
            )
            _attach_gx(report)
    finally:
        for ruleset in present:
            con.execute(f"drop table if exists {failures_table(ruleset.stream)}")
            con.execute(f"drop table if exists {work_table(ruleset.stream, persist=False)}")
        drop_work_tables(con, [r.stream for r in present])
        if not isinstance(warehouse, duckdb.DuckDBPyConnection):
            con.close()
    return report


def _gx_selection(present: list[RuleSet], choice: bool | Iterable[str]) -> list[RuleSet]:
    if isinstance(choice, bool):
        return present if choice else []
    wanted = set(choice)
    return [r for r in present if r.stream in wanted]


def _attach_gx(report: QualityReport) -> None:
    by_stream: dict[str, bool] = {}
    for outcome in report.gx:
        by_stream[outcome.stream] = by_stream.get(outcome.stream, True) and outcome.success
    for stream, result in report.streams.items():
        result.gx_success = by_stream.get(stream)


def validate_stream(
    warehouse: Warehouse,
    stream: str,
    *,
    run_id: str | None = None,
    docs_dir: str | Path | None = None,
    great_expectations: bool = True,
) -> StreamResult:
    """One raw table's rules: results, quarantine and batch accounting (one asset check)."""
    report = validate_streams(
        warehouse, [stream], run_id=run_id, docs_dir=docs_dir, great_expectations=great_expectations
    )
    if stream not in report.streams:
        raise LookupError(f"raw.{stream} has not been landed in this warehouse")
    return report.streams[stream]


def run_quality(
    warehouse_path: Warehouse,
    run_id: str | None = None,
    streams: Iterable[str] | None = None,
    docs_dir: str | Path | None = None,
    *,
    identity: bool = True,
    great_expectations: bool | Iterable[str] = True,
) -> QualityReport:
    """Validate every (or the given) landed stream, build the Data Docs, then the identity map."""
    report = validate_streams(
        warehouse_path, streams, run_id=run_id, docs_dir=docs_dir, great_expectations=great_expectations
    )
    if identity:
        from quality.identity import build_identity_map

        report.identity = build_identity_map(warehouse_path)
    return report
