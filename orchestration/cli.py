"""`sfa`: the command line for the sandbox, whole-pipeline runs and benchmarks.

Sub-apps are imported lazily so `sfa sandbox serve` does not pay for importing Dagster and dbt.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, help="Open sales-analytics pipeline: sandbox, runs, benchmarks.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print a table (add --json for JSON).")
app.add_typer(bench_app, name="bench")


def _mount(parent: typer.Typer, name: str, module: str, help_text: str, *, as_command: bool = False) -> None:
    """Attach a layer's typer app; `as_command` flattens a one-command app into `parent name ...`."""
    try:
        sub = importlib.import_module(module).app
    except ImportError as exc:  # a layer that is not installed should not break the others
        sub = typer.Typer(help=f"{help_text} (unavailable: {exc})")
    commands = sub.registered_commands
    if as_command and len(commands) == 1:
        parent.command(name=name, help=help_text)(commands[0].callback)
    else:
        parent.add_typer(sub, name=name, help=help_text)


_mount(app, "sandbox", "extractors.sandbox.cli", "Sandbox CRM, marketing and ERP APIs on loopback.")
_mount(bench_app, "extract", "extractors.bench", "Extraction: raw ceiling vs our extractor vs dlt.", as_command=True)
_mount(bench_app, "quality", "quality.bench", "Validation and dedup of N leads.", as_command=True)
_mount(bench_app, "dbt", "orchestration.bench_dbt", "Full and incremental dbt build.", as_command=True)


@app.command()
def run(
    seed: int = typer.Option(7, help="Sandbox seed."),
    scale: float = typer.Option(1.0, help="Sandbox scale (1.0 = 10,000 leads)."),
    faults: str = typer.Option("none", help="Sandbox fault profile: none, flaky, hostile."),
    sandbox: bool = typer.Option(True, help="Start the built-in sandbox and point the sources at it."),
    full_refresh: bool = typer.Option(False, help="Re-read every stream from the beginning."),
) -> None:
    """Run the whole pipeline (extract, quality, dbt, exports) through Dagster."""
    import os
    import sys

    from orchestration.run import run_pipeline

    code = run_pipeline(seed=seed, scale=scale, faults=faults, use_sandbox=sandbox, full_refresh=full_refresh)
    # Everything is committed and printed by now; skipping interpreter teardown avoids DuckDB's
    # nanobind leak report (hundreds of lines at exit) burying the summary.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def compact(
    warehouse: str | None = typer.Option(None, help="DuckDB file (default: the pipeline's warehouse)."),
) -> None:
    """Merge the DuckDB row groups that incremental runs left behind (the daily compaction job)."""
    from extractors.warehouse import compact as compact_warehouse
    from orchestration import paths

    report = compact_warehouse(warehouse or paths.warehouse_path())
    typer.echo(report.summary())
    for table, (before, after) in sorted(report.row_groups.items()):
        typer.echo(f"  {table}: {before} -> {after}")


@app.command()
def ui(port: int = typer.Option(3000, help="Port of the Dagster web UI.")) -> None:
    """Open the Dagster UI (`dagster dev -w workspace.yaml`) on the project's instance."""
    import os
    import sys

    from orchestration import paths
    from orchestration.run import ensure_dagster_home

    ensure_dagster_home()
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    os.chdir(paths.REPO_ROOT)
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", "-p", str(port)])


if __name__ == "__main__":
    app()
