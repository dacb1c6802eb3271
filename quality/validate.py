"""Evaluate one stream's rules in DuckDB and record the outcome (quarantine, accounting, trends).

Every landed row that is not a tombstone is judged on its own content (row rules, and
references against what has landed of the parent table); uniqueness is judged on the current
state only. A row version is *quarantined* when it breaks an error rule, otherwise it *passed*,
so per batch rows_in = rows_passed + rows_quarantined holds by construction. The quarantine
keeps one entry per failing (row version, rule); an entry is unresolved while that version
is the record's current one and still fails, and resolved once a newer version arrives
("superseded") or the rule stops failing ("passed", e.g. the parent record has landed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from quality.compile import current_rows_sql, failing_rows_sql, flat_select, ident, q, raw_table
from quality.expectations import WORK_SCHEMA
from quality.schema import RuleSet
from quality.tables import SCHEMA


@dataclass(frozen=True)
class RuleResult:
    stream: str
    rule: str
    check: str
    severity: str
    evaluated: int
    failed: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.failed / self.evaluated, 4) if self.evaluated else 0.0


@dataclass
class StreamResult:
    stream: str
    run_id: str
    raw_rows: int
    current_rows: int
    error_rows: int
    warn_rows: int
    max_error_percent: float
    block_min_rows: int = 10
    rules: list[RuleResult] = field(default_factory=list)
    batches: int = 0
    quarantined_row_versions: int = 0
    gx_success: bool | None = None

    @property
    def error_failures(self) -> int:
        """Current rows failing at least one error rule (what dbt excludes)."""
        return self.error_rows

    @property
    def blocks(self) -> bool:
        """The stream is broken as a whole: too many current rows fail error rules."""
        if not self.current_rows:
            return False
        share_exceeded = 100.0 * self.error_rows / self.current_rows > self.max_error_percent
        return share_exceeded and self.error_rows >= min(self.block_min_rows, self.current_rows)

    def metadata(self) -> dict:
        """Flat numbers for an asset check's metadata."""
        return {
            "raw_rows": self.raw_rows,
            "current_rows": self.current_rows,
            "error_rows": self.error_rows,
            "warn_rows": self.warn_rows,
            "blocks": self.blocks,
            "max_error_percent": self.max_error_percent,
            "block_min_rows": self.block_min_rows,
            "batches": self.batches,
            "failed_by_rule": {r.rule: r.failed for r in self.rules if r.failed},
        }


def failures_table(stream: str) -> str:
    return ident(f"_failures_{stream}")


def work_table(stream: str, persist: bool) -> str:
    """The flat table: in the warehouse when Great Expectations (another connection) reads it."""
    return f"{WORK_SCHEMA}.{ident(stream)}" if persist else ident(f"_flat_{stream}")


def evaluate_stream(
    con: duckdb.DuckDBPyConnection,
    ruleset: RuleSet,
    rulesets: dict[str, RuleSet],
    existing: set[str],
    *,
    persist: bool = True,
) -> None:
    """Build the flat rows of a stream (see work_table) and the temp table of its failures."""
    stream = ruleset.stream
    work = work_table(stream, persist)
    con.execute(f"create or replace temp table _current_rows as {current_rows_sql(stream)}")
    kind = "table" if persist else "temp table"
    con.execute(f"create or replace {kind} {work} as {flat_select(ruleset, '_current_rows')}")
    con.execute("drop table _current_rows")
    con.execute(
        f"create or replace temp table {failures_table(stream)} "
        "(_row bigint, rule varchar, severity varchar, reason varchar)"
    )
    # one statement for all rules: DuckDB plans and runs the union in one go
    parts = [
        f"select _row, {q(rule.name)} as rule, {q(rule.severity)} as severity, reason from ("
        f"{failing_rows_sql(rule, ruleset, rel=work, rulesets=rulesets, existing_tables=existing)})"
        for rule in ruleset.rules
    ]
    con.execute(f"insert into {failures_table(stream)} " + " union all ".join(parts))


def record_outcome(
    con: duckdb.DuckDBPyConnection, ruleset: RuleSet, run_id: str, run_at: dt.datetime, *, persist: bool = True
) -> StreamResult:
    """Write rule results, quarantine, quarantine_current and batch accounting for one stream.

    The caller owns the transaction (see run.validate_streams: one per stream)."""
    stream = ruleset.stream
    work = work_table(stream, persist)
    fails = failures_table(stream)
    result = _summarise(con, ruleset, run_id, work)
    con.execute(f"delete from {SCHEMA}.rule_results where run_id = ? and stream = ?", [run_id, stream])
    con.executemany(
        f"insert into {SCHEMA}.rule_results values (?, ?, ?, ?, ?, ?, ?, ?)",
        [[run_id, run_at, stream, r.rule, r.severity, r.evaluated, r.failed, r.percent] for r in result.rules],
    )
    _merge_quarantine(con, stream, work, fails, run_id)
    con.execute(f"delete from {SCHEMA}.batch_accounting where stream = ?", [stream])
    con.execute(
        f"""
        insert into {SCHEMA}.batch_accounting
        with rows_in as (
            select _batch_id, count(*) as n from {raw_table(stream)} group by 1
        ), quarantined as (
            select w._batch_id, count(distinct f._row) as n
            from {fails} f join {work} w on w._row = f._row
            where f.severity = 'error' group by 1
        )
        select {q(stream)}, i._batch_id, i.n, i.n - coalesce(x.n, 0), coalesce(x.n, 0), ?, ?
        from rows_in i left join quarantined x on x._batch_id = i._batch_id
        """,
        [run_id, run_at],
    )
    result.batches, result.quarantined_row_versions = con.execute(
        f"select count(*), coalesce(sum(rows_quarantined), 0) from {SCHEMA}.batch_accounting where stream = ?",
        [stream],
    ).fetchone()
    return result


def _summarise(con: duckdb.DuckDBPyConnection, ruleset: RuleSet, run_id: str, work: str) -> StreamResult:
    stream = ruleset.stream
    fails = failures_table(stream)
    raw_rows = con.execute(f"select count(*) from {raw_table(stream)}").fetchone()[0]
    current_rows = con.execute(f"select count(*) from {work} where _is_current").fetchone()[0]
    per_rule = dict(
        con.execute(
            f"select f.rule, count(distinct f._row) from {fails} f join {work} w on w._row = f._row "
            "where w._is_current group by 1"
        ).fetchall()
    )
    error_rows, warn_rows = con.execute(
        f"""
        select count(distinct f._row) filter (where f.severity = 'error'),
               count(distinct f._row) filter (where f.severity = 'warn')
        from {fails} f join {work} w on w._row = f._row where w._is_current
        """
    ).fetchone()
    rules = [
        RuleResult(stream, r.name, r.check, r.severity, current_rows, per_rule.get(r.name, 0)) for r in ruleset.rules
    ]
    return StreamResult(
        stream=stream,
        run_id=run_id,
        raw_rows=raw_rows,
        current_rows=current_rows,
        error_rows=error_rows,
        warn_rows=warn_rows,
        max_error_percent=ruleset.max_error_percent,
        block_min_rows=ruleset.block_min_rows,
        rules=rules,
    )


def _merge_quarantine(con: duckdb.DuckDBPyConnection, stream: str, work: str, fails: str, run_id: str) -> None:
    """Carry first_seen over from earlier runs; resolve entries that no longer fail."""
    con.execute(
        f"""
        create or replace temp table _q_new as
        select w._batch_id as batch_id, w._record_id as record_id, w._cursor as cursor, f.rule,
               any_value(f.severity) as severity, any_value(f.reason) as reason,
               any_value(r._record) as record, bool_or(w._is_current) as is_current
        from {fails} f
        join {work} w on w._row = f._row
        join {raw_table(stream)} r on r.rowid = f._row
        group by all
        """
    )
    key = "o.batch_id = n.batch_id and o.record_id = n.record_id and o.cursor is not distinct from n.cursor and o.rule = n.rule"
    con.execute(
        f"""
        create or replace temp table _q_merged as
        select {q(stream)} as stream,
               coalesce(n.batch_id, o.batch_id) as batch_id,
               coalesce(n.record_id, o.record_id) as record_id,
               coalesce(n.cursor, o.cursor) as cursor,
               coalesce(n.rule, o.rule) as rule,
               coalesce(n.severity, o.severity) as severity,
               coalesce(n.reason, o.reason) as reason,
               coalesce(n.record, o.record) as record,
               coalesce(o.first_seen_run, {q(run_id)}) as first_seen_run,
               case when n.is_current or o.rule is null then {q(run_id)} else o.last_seen_run end as last_seen_run,
               coalesce(not n.is_current, true) as resolved,
               case
                   when n.is_current then null
                   when o.resolved then o.resolved_run
                   else {q(run_id)}
               end as resolved_run,
               case
                   when n.is_current then null
                   when n.rule is not null then 'superseded'
                   when o.resolved then o.resolution
                   else 'passed'
               end as resolution
        from (select * from {SCHEMA}.quarantine where stream = {q(stream)}) o
        full outer join _q_new n on {key}
        """
    )
    con.execute(f"delete from {SCHEMA}.quarantine where stream = ?", [stream])
    con.execute(f"insert into {SCHEMA}.quarantine select * from _q_merged")
    con.execute(f"delete from {SCHEMA}.quarantine_current where stream = ?", [stream])
    con.execute(
        f"""
        insert into {SCHEMA}.quarantine_current
        select stream, record_id, rule, severity, reason from {SCHEMA}.quarantine
        where stream = ? and not resolved and severity = 'error'
        """,
        [stream],
    )
    con.execute("drop table if exists _q_new")
    con.execute("drop table if exists _q_merged")
