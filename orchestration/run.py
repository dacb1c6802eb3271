"""`sfa run`: the whole pipeline through Dagster, by default against the built-in sandbox."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
from rich.console import Console
from rich.table import Table

from orchestration import paths

console = Console()



def ensure_dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # One writer at a time on the DuckDB file: every warehouse step runs in the `warehouse` pool.
        config.write_text("concurrency:\n  pools:\n    default_limit: 1\ntelemetry:\n  enabled: false\n")
    return home


@contextlib.contextmanager
def sandbox_sources(seed: int, scale: float, faults: str) -> Iterator[dict]:
    from extractors.config import SANDBOX_URL_ENV
    from extractors.sandbox.process import SandboxProcess

    truth = paths.truth_path()
    truth.parent.mkdir(parents=True, exist_ok=True)
    with SandboxProcess(seed=seed, scale=scale, faults=faults, truth_path=truth) as sandbox:
        # The sandbox's published credentials and URL for this run only; a real tenant's come from the env.
        env = {**sandbox.env(), SANDBOX_URL_ENV: sandbox.url}
        # Marts measure "today" as the sandbox world's last day, not the wall clock.
        env["SFA_AS_OF_DATE"] = json.loads(truth.read_text())["as_of"][:10]
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            console.print(f"sandbox serving on {sandbox.url} (seed {seed}, scale {scale}, faults {faults})")
            yield json.loads(truth.read_text())
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def run_pipeline(*, seed: int, scale: float, faults: str, use_sandbox: bool, full_refresh: bool) -> int:
    paths.warehouse_dir().mkdir(parents=True, exist_ok=True)
    ensure_dagster_home()
    with sandbox_sources(seed, scale, faults) if use_sandbox else contextlib.nullcontext(None) as truth:
        ok = execute_full_job(full_refresh=full_refresh)
        if use_sandbox:
            truth = json.loads(paths.truth_path().read_text())
    print_summary(truth)
    return 0 if ok else 1


def execute_full_job(*, full_refresh: bool) -> bool:
    from dagster import DagsterInstance

    from orchestration.definitions import defs
    from orchestration.jobs import FULL_JOB_NAME, raw_run_config

    job = defs.resolve_job_def(FULL_JOB_NAME)
    result = job.execute_in_process(
        instance=DagsterInstance.get(),
        run_config=raw_run_config(full_refresh=full_refresh),
        raise_on_error=False,
    )
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                console.print(f"[red]check failed[/red] {evaluation.asset_key.to_user_string()}:"
                              f"{evaluation.check_name} {dict(evaluation.metadata)}")
    return result.success


def raw_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "and table_name not like '\\_%' escape '\\' order by 1"
    ).fetchall()
    return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for (t,) in tables}


def print_summary(truth: dict | None) -> None:
    warehouse = paths.warehouse_path()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        counts = raw_counts(con)
        marts = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema like '%marts%' order by 1"
        ).fetchall()
    finally:
        con.close()
    table = Table(title="raw rows landed")
    table.add_column("raw table")
    table.add_column("rows", justify="right")
    if truth:
        table.add_column("sandbox served", justify="right")
        table.add_column("match")
    served = (truth or {}).get("served_counts", {})
    for name, rows in counts.items():
        cells = [name, f"{rows:,}"]
        if truth:
            expected = served.get(name)
            cells += [f"{expected:,}" if expected is not None else "-", "yes" if expected == rows else "NO"]
        table.add_row(*cells)
    console.print(table)
    console.print(f"warehouse (DuckDB): {warehouse}")
    console.print(f"marts: {', '.join(m for (m,) in marts) or 'none'}")
    console.print(f"exports (Parquet + manifest.json): {paths.exports_dir()}")
    console.print(f"quality report (Data Docs): {paths.data_docs_dir() / 'index.html'}")
    if truth:
        console.print(f"sandbox truth manifest: {paths.truth_path()}")
