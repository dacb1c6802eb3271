"""`sfa bench dbt --scale N`: full and incremental `dbt build` on N x 10,000 sandbox leads.

Steps, each timed on its own:

1. land every stream of the sandbox World (seed, scale) into a fresh DuckDB (`World.pages` +
   `extractors.landing.land_records`, what the extractors write);
2. fill the quality tables dbt reads (`quarantine_current`, `identity_map`) with the real quality
   layer (`quality.run.run_quality`, Great Expectations off: this benchmarks dbt);
3. full `dbt build` (subprocess; wall time, peak RSS of the dbt process tree polled with psutil,
   and its CPU seconds, user + system, which vary less than wall time on a shared machine);
4. append a new version of 1% of the records of every stream (a later cursor, the record's
   modified time moved with it and a changed name), as an extraction of changed records would;
5. `dbt build` again: the staging base tables merge only the changed ids, the key-incremental
   models (dbt_project/README.md) only the affected keys, the rest is rebuilt. Budget (issue 5):
   the incremental build takes at most 20% of the full one.

Between 3 and 4, a `dbt build` with nothing changed is timed too, from the same warehouse: the
floor every run pays (dbt's start and per-node work, tables rebuilt whole, tests), so the report
shows how much of the incremental run is that floor and how much scales with the change.

With `--repeat N`, steps 4-5 run N times, each from a copy of the warehouse as the full build left
it, and the median incremental time is reported: on a shared 2-core machine single runs of the same
build were seen to vary by +-10%, full builds by +-20% within an hour. With `--full-repeat N`, step 3
runs N times too, each on a copy of the warehouse as landed, and the ratio is median over median (the
first full build also parses the whole project, since the target directory is new; later ones use
partial parsing, as every scheduled run does). The report gives the ratio in CPU seconds too; the
budget is on wall time.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import psutil
import typer
from rich.console import Console
from rich.table import Table

from extractors import warehouse as warehouse_db
from orchestration import dbt_cli

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# What the Dagster assets run: dbt with the cyclic GC off.
DBT_BIN = dbt_cli.EXECUTABLE
BUDGET_RATIO = 0.20
CHANGE_SHARE_PERCENT = 1
# The sandbox world ends on this day; the marts' "today" (dbt var as_of_date via env).
DEFAULT_AS_OF_DATE = "2026-10-31"

app = typer.Typer(add_completion=False, help="Full and incremental dbt build.")


@dataclass
class Step:
    step: str
    rows: int
    seconds: float
    peak_rss_mib: float | None = None
    note: str = ""
    # user + system CPU of the step's process: on a shared machine steadier than wall time
    cpu_seconds: float | None = None
    detail: dict = field(default_factory=dict)


def land_world(warehouse: Path, seed: int, scale: float, page_size: int = 1000) -> tuple[int, str]:
    """Every stream of the World into raw.*; returns (rows landed, the world's as-of date)."""
    from extractors.landing import ensure_raw_table, land_records
    from extractors.sandbox.world import World
    from extractors.streams import STREAMS, record_keys

    world = World(seed=seed, scale=scale)
    rows = 0
    con = warehouse_db.connect(warehouse)
    try:
        for stream in world.streams():
            rows += land_records(con, stream, world.pages(stream, size=page_size), source=world.source(stream),
                                 keys=record_keys(stream))
        for stream in STREAMS:  # every contract table exists, even if the World serves none
            ensure_raw_table(con, stream)
    finally:
        con.close()
    as_of = dt_date_of_ms(world.as_of_ms)
    return rows, as_of


def dt_date_of_ms(ms: int) -> str:
    """Asia/Shanghai date of an epoch-ms instant (the sandbox's business time zone)."""
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone(dt.timedelta(hours=8))).date().isoformat()


def build_quality(warehouse: Path) -> tuple[int, str]:
    """The real quality layer (rules + quarantine + identity map); returns (quarantined rows, note)."""
    from quality.run import run_quality

    run_quality(str(warehouse), great_expectations=False)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        quarantined = con.execute("select count(*) from quality.quarantine_current").fetchone()[0]
        mapped = con.execute("select count(*) from quality.identity_map").fetchone()[0]
    finally:
        con.close()
    return quarantined, f"quality.run.run_quality (GE off): {quarantined:,} quarantined, {mapped:,} identity rows"


# Per source: how a changed version moves the cursor (text, as landed) and the record's modified
# time, plus the field that visibly changes. CRM cursors are epoch ms, marketing ISO-8601 UTC with
# milliseconds, ERP Odoo 'YYYY-MM-DD HH:MM:SS'; all move one day later.
_NEW_CURSOR = {
    "crm": "cast(cast(_cursor as bigint) + 86400000 as varchar)",
    "marketing": "strftime(cast(replace(replace(_cursor, 'T', ' '), 'Z', '') as timestamp) + interval 1 day, "
                 "'%Y-%m-%dT%H:%M:%S.%gZ')",
    "erp": "strftime(cast(_cursor as timestamp) + interval 1 day, '%Y-%m-%d %H:%M:%S')",
}
_PATCH = {
    "crm": "json_object('last_modified_time', cast(new_cursor as bigint), 'name', "
           "coalesce(json_extract_string(_record, '$.name'), '') || ' (bench edit)')",
    "marketing": "json_object('updatedAt', new_cursor)",
    "erp": "json_object('write_date', new_cursor, 'name', "
           "coalesce(json_extract_string(_record, '$.name'), '') || ' (bench edit)')",
}
# Snapshot streams have no cursor: a later extraction of the same id is the newer version.
_SNAPSHOT_PATCH = "json_object('name', coalesce(json_extract_string(_record, '$.name'), '') || ' (bench edit)')"


def change_records(warehouse: Path, percent: int = CHANGE_SHARE_PERCENT) -> tuple[int, dict[str, int]]:
    """Append a new version of `percent`% of the current records of every raw table (chosen by a
    hash of the id, so reruns pick the same ones). Returns (rows appended, per table)."""
    con = warehouse_db.connect(warehouse)
    per_table: dict[str, int] = {}
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1").fetchall()]
        con.execute("begin")
        for table in tables:
            source = con.execute(f"select any_value(_source) from raw.{table}").fetchone()[0]
            if source is None:
                continue
            snapshot = con.execute(f"select count(_cursor) = 0 from raw.{table}").fetchone()[0]
            new_cursor = "cast(null as varchar)" if snapshot else _NEW_CURSOR[source]
            patch = _SNAPSHOT_PATCH if snapshot else _PATCH[source]
            con.execute(f"""
                insert into raw.{table}
                with latest as (
                    select * from raw.{table}
                    where hash(_record_id) % 100 < {int(percent)}
                    qualify row_number() over (
                        partition by _record_id order by _cursor desc nulls last, _extracted_at desc, _batch_id desc
                    ) = 1
                ),
                moved as (select *, {new_cursor} as new_cursor from latest)
                select _source, _stream, 'bench-change', cast(now() as timestamp), _record_id, new_cursor, _deleted,
                    json_merge_patch(_record, {patch})
                from moved
            """)
            per_table[table] = con.execute(
                f"select count(*) from raw.{table} where _batch_id = 'bench-change'").fetchone()[0]
        con.execute("commit")
    finally:
        con.close()
    return sum(per_table.values()), per_table


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


class DbtRun(NamedTuple):
    seconds: float
    peak_rss_mib: float
    cpu_seconds: float
    results: dict


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_dbt(args: list[str], env: dict[str, str], log_dir: Path, label: str = "dbt", poll_seconds: float = 0.1) -> DbtRun:
    """One dbt command: wall seconds, peak RSS MiB of its process tree, CPU seconds (user + system,
    counted when the process is reaped) and its run_results.
    Both builds share `log_dir` (target/) as a scheduled deployment does, so the second one uses
    dbt's partial parsing like any repeated run."""
    cmd = [str(DBT_BIN), *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(log_dir / "target"), "--log-path", str(log_dir / "logs"), "--log-level-file", "info"]
    log_dir.mkdir(parents=True, exist_ok=True)
    output = log_dir / f"{label}_output.txt"
    peak = 0
    # Flush the previous step's writes first (landing, or the GBs the full build wrote): otherwise the
    # kernel writes them back while this build runs, and the timing includes the step before it.
    os.sync()
    cpu_before = _children_cpu_seconds()
    start = time.perf_counter()
    with open(output, "w") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **env},
                                stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        watched = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                peak = max(peak, _tree_rss(watched))
            except psutil.Error:
                pass
            time.sleep(poll_seconds)
    seconds = time.perf_counter() - start
    cpu_seconds = _children_cpu_seconds() - cpu_before
    if proc.returncode != 0:
        tail = "\n".join(output.read_text().splitlines()[-40:])
        raise RuntimeError(f"dbt {' '.join(args)} failed (exit {proc.returncode}); log {output}:\n{tail}")
    results = json.loads((log_dir / "target" / "run_results.json").read_text())
    return DbtRun(seconds, peak / 2**20, cpu_seconds, results)


def _copy_database(source: Path, target: Path) -> None:
    """A closed DuckDB database: its file, and its write-ahead log if one was left."""
    shutil.copyfile(source, target)
    wal, target_wal = Path(f"{source}.wal"), Path(f"{target}.wal")
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    else:
        target_wal.unlink(missing_ok=True)


def _slowest(results: dict, n: int = 5) -> list[tuple[str, float]]:
    nodes = sorted(results["results"], key=lambda r: -r["execution_time"])
    return [(r["unique_id"].split(".")[-1], round(r["execution_time"], 2)) for r in nodes[:n]]


def _base_seconds(results: dict) -> float:
    """Summed execution time of the incremental staging base tables (threads overlap: not wall)."""
    return round(sum(r["execution_time"] for r in results["results"] if ".base_" in r["unique_id"]), 2)


def _median_step(kind: str, rows: int, runs: list[DbtRun]) -> Step:
    """The step "dbt build (<kind>)" for repeated runs of one build: the median wall and CPU seconds,
    the highest peak RSS, every run's seconds, and the slowest nodes of the run nearest the median."""
    seconds = statistics.median(run.seconds for run in runs)
    median_run = min(runs, key=lambda run: abs(run.seconds - seconds))
    label = f"dbt build ({kind})" if len(runs) == 1 else f"dbt build ({kind}, median of {len(runs)})"
    return Step(label, rows, seconds, max(run.peak_rss_mib for run in runs),
                cpu_seconds=statistics.median(run.cpu_seconds for run in runs),
                detail={"slowest": _slowest(median_run.results),
                        "base_model_seconds": _base_seconds(median_run.results),
                        "runs_seconds": [round(run.seconds, 2) for run in runs]})


def run_benchmark(scale: float, seed: int, workdir: Path, as_of_date: str | None = None,
                  quality: str = "real", echo=print, repeat: int = 1, full_repeat: int = 1) -> dict:
    """All steps; returns {"steps": [...], "ratio": ..., "passed": ...}."""
    warehouse = workdir / "sfa.duckdb"
    if warehouse.exists():
        warehouse.unlink()
    steps: list[Step] = []

    start = time.perf_counter()
    raw_rows, world_as_of = land_world(warehouse, seed, scale)
    steps.append(Step("land (World.pages -> land_records, 20 streams)", raw_rows, time.perf_counter() - start))
    echo(f"landed {raw_rows:,} rows in {steps[-1].seconds:.1f} s")

    start = time.perf_counter()
    if quality == "real":
        quarantined, note = build_quality(warehouse)
    else:  # empty quality tables: staging falls back to no quarantine and `<source>:<id>` identities
        quarantined, note = 0, "quality tables left empty (--quality empty)"
        con = warehouse_db.connect(warehouse)
        con.execute("create schema if not exists quality")
        con.execute("create table if not exists quality.quarantine_current (stream varchar, record_id varchar, "
                    "rule varchar, severity varchar, reason varchar)")
        con.execute("create table if not exists quality.identity_map (entity varchar, source varchar, "
                    "record_id varchar, canonical_id varchar)")
        con.close()
    steps.append(Step("quality tables", quarantined, time.perf_counter() - start, note=note))
    echo(f"{note} in {steps[-1].seconds:.1f} s")

    env = {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": as_of_date or world_as_of,
           "SFA_DBT_TARGET": "duckdb"}
    before_full = workdir / "before_full.duckdb"
    if full_repeat > 1:
        _copy_database(warehouse, before_full)
    fulls: list[DbtRun] = []
    for attempt in range(full_repeat):
        if attempt:
            _copy_database(before_full, warehouse)
        fulls.append(run_dbt(["build"], env, workdir / "dbt", "full" if not attempt else f"full_{attempt + 1}"))
        echo(f"full dbt build {fulls[-1].seconds:.1f} s, peak RSS {fulls[-1].peak_rss_mib:.0f} MiB")
    before_full.unlink(missing_ok=True)
    Path(f"{before_full}.wal").unlink(missing_ok=True)
    full = _median_step("full", raw_rows, fulls)
    steps.append(full)

    after_full = workdir / "after_full.duckdb"
    _copy_database(warehouse, after_full)

    # The same build with nothing changed: dbt's own per-run cost plus whatever is rebuilt or
    # scanned whole on every run. The incremental's excess over it is what scales with the change.
    seconds, rss, cpu, results = run_dbt(["build"], env, workdir / "dbt", "unchanged")
    floor = Step("dbt build, nothing changed (the floor of any run)", 0, seconds, rss, cpu_seconds=cpu,
                 detail={"slowest": _slowest(results), "base_model_seconds": _base_seconds(results)})
    steps.append(floor)
    echo(f"dbt build with nothing changed {seconds:.1f} s, peak RSS {rss:.0f} MiB")

    runs: list[DbtRun] = []
    for attempt in range(repeat):
        _copy_database(after_full, warehouse)
        start = time.perf_counter()
        changed, per_table = change_records(warehouse)
        if not attempt:
            steps.append(Step(f"append changed versions ({CHANGE_SHARE_PERCENT}% of every stream)", changed,
                              time.perf_counter() - start, detail={"per_table": per_table}))
        runs.append(run_dbt(["build"], env, workdir / "dbt", "incremental" if not attempt else f"incremental_{attempt + 1}"))
        echo(f"incremental dbt build {runs[-1].seconds:.1f} s, peak RSS {runs[-1].peak_rss_mib:.0f} MiB")
    after_full.unlink(missing_ok=True)
    Path(f"{after_full}.wal").unlink(missing_ok=True)

    incremental = _median_step("incremental", changed, runs)
    steps.append(incremental)

    ratio = incremental.seconds / full.seconds
    return {"scale": scale, "seed": seed, "leads": round(10_000 * scale), "budget_ratio": BUDGET_RATIO,
            "ratio": ratio, "passed": ratio <= BUDGET_RATIO, "floor_ratio": floor.seconds / full.seconds,
            "cpu_ratio": incremental.cpu_seconds / full.cpu_seconds if full.cpu_seconds else None,
            "steps": [asdict(s) for s in steps]}


def render(report: dict, console: Console) -> None:
    table = Table(title=f"dbt build, sandbox scale {report['scale']:g} ({report['leads']:,} leads), seed {report['seed']}")
    table.add_column("step")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("CPU s", justify="right")
    table.add_column("peak RSS MiB", justify="right")
    for s in report["steps"]:
        rss = f"{s['peak_rss_mib']:.0f}" if s["peak_rss_mib"] is not None else ""
        cpu = f"{s['cpu_seconds']:.1f}" if s.get("cpu_seconds") is not None else ""
        table.add_row(s["step"], f"{s['rows']:,}", f"{s['seconds']:.1f}", cpu, rss)
    verdict = "PASS" if report["passed"] else "FAIL"
    cpu_ratio = f"{report['cpu_ratio']:.1%}" if report.get("cpu_ratio") is not None else ""
    table.add_row(f"incremental / full (budget <= {report['budget_ratio']:.0%})", "", f"{report['ratio']:.1%}",
                  cpu_ratio, verdict, style="bold green" if report["passed"] else "bold red")
    console.print(table)
    console.print(f"nothing changed: {report['floor_ratio']:.1%} of the full build; the incremental run's excess "
                  f"over that is what scales with the change")
    for s in report["steps"]:
        if s["note"]:
            console.print(f"{s['step']}: {s['note']}")
        if "slowest" in s["detail"]:
            slow = ", ".join(f"{name} {sec}s" for name, sec in s["detail"]["slowest"])
            console.print(f"{s['step']}: staging base models {s['detail']['base_model_seconds']} s (summed); "
                          f"slowest nodes: {slow}")
        if len(s["detail"].get("runs_seconds", [])) > 1:
            console.print(f"{s['step']}: runs {', '.join(f'{x:.1f} s' for x in s['detail']['runs_seconds'])}")


@app.command()
def bench(
    scale: float = typer.Option(100.0, help="Sandbox scale (leads = 10,000 x scale; 100 = 1,000,000 leads)."),
    seed: int = typer.Option(7, help="Sandbox seed."),
    json_out: bool = typer.Option(False, "--json", help="Print the figures as JSON instead of a table."),
    workdir: Path | None = typer.Option(None, help="Where the warehouse and dbt logs go (default: a temp dir, "
                                                   "removed afterwards)."),
    quality: str = typer.Option("real", help="real: run the quality layer; empty: empty quality tables."),
    as_of_date: str | None = typer.Option(None, help="Marts' as-of date (default: the sandbox world's as-of)."),
    repeat: int = typer.Option(1, min=1, help="Incremental runs, each from the warehouse the full build left; "
                                              "the median is reported."),
    full_repeat: int = typer.Option(1, min=1, help="Full builds, each on the warehouse as landed (the first one "
                                                   "also parses the project); the median is reported."),
) -> None:
    """Land the sandbox, build the marts in full, change 1% of the records, build again."""
    if quality not in ("real", "empty"):
        raise typer.BadParameter("--quality must be 'real' or 'empty'")
    console = Console(stderr=json_out)
    temporary = workdir is None
    work = Path(tempfile.mkdtemp(prefix="sfa_bench_dbt_")) if temporary else workdir
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = run_benchmark(scale, seed, work, as_of_date, quality, echo=lambda m: console.print(m, style="dim"),
                               repeat=repeat, full_repeat=full_repeat)
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    if json_out:
        print(json.dumps(report, indent=2))
    else:
        render(report, console)


if __name__ == "__main__":
    app()
