"""`sfa bench quality --scale N`: validate and deduplicate N x 10,000 sandbox leads, print a table.

Leads (and the campaigns they reference) are landed from the sandbox World straight into a
temporary warehouse, then each measured phase runs in a fresh Python process so its peak RSS
(VmHWM of that process) is its own; seconds are the phase's call alone, without start-up
and imports. Budget (docs/quality README): validating 1,000,000 leads <= 30 s, RSS < 2 GiB.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(add_completion=False, help="Validation and dedup of N leads.")

BUDGET_SECONDS = 30.0
BUDGET_RSS_MIB = 2048.0
PHASES = {
    "validate": "rules in DuckDB + quarantine + batch accounting (crm_leads)",
    "validate+gx": "the same, plus Great Expectations validation and Data Docs",
    "dedup": "identity map of the leads (normalise, cluster, survivors)",
}

_CHILD = """
import json, sys, time
phase, warehouse, docs = sys.argv[1], sys.argv[2], sys.argv[3]
from quality.run import validate_streams
from quality.identity import build_identity_map
import pyarrow as pa
pa.table({"warm": ["up"]})  # pyarrow loads pandas lazily on first use: start-up, not work
if phase == "validate+gx":
    import great_expectations  # imported before the clock starts, like a long-lived worker
import resource
cpu0 = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
if phase == "dedup":
    out = build_identity_map(warehouse)
else:
    report = validate_streams(warehouse, ["crm_leads"], docs_dir=docs, great_expectations=phase == "validate+gx")
    r = report.streams["crm_leads"]
    out = {"current_rows": r.current_rows, "error_rows": r.error_rows, "warn_rows": r.warn_rows}
seconds = time.perf_counter() - start
cpu1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
# VmHWM: this process's own high-water RSS (ru_maxrss would include the parent's RSS, which
# Linux carries over fork + exec)
hwm = next(int(ln.split()[1]) for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mib": hwm / 1024, "result": out}))
"""


def land_leads(warehouse: Path, seed: int, scale: float, batch_rows: int = 100_000) -> int:
    """Land the World's leads (in batches of `batch_rows`) and its campaigns; returns lead rows."""
    from extractors.landing import land_records
    from extractors.sandbox.world import World
    from extractors.streams import record_keys

    world = World(seed, scale)
    con = duckdb.connect(str(warehouse))
    con.execute("set enable_progress_bar = false")
    try:
        land_records(con, "mkt_campaigns", world.pages("mkt_campaigns"), source="marketing",
                     keys=record_keys("mkt_campaigns"))
        keys = record_keys("crm_leads")
        pages, rows, landed = [], 0, 0
        for page in world.pages("crm_leads", size=5_000):
            pages.append(page)
            rows += len(page)
            if rows >= batch_rows:
                landed += land_records(con, "crm_leads", pages, source="crm", keys=keys)
                pages, rows = [], 0
        if pages:
            landed += land_records(con, "crm_leads", pages, source="crm", keys=keys)
        con.execute("checkpoint")
    finally:
        con.close()
    return landed


def measure(phase: str, warehouse: Path, docs: Path) -> dict:
    """Run one phase in a child process; wall seconds of the call and the child's own peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, phase, str(warehouse), str(docs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # duckdb prints nanobind leak notes at exit
        cwd=Path(__file__).resolve().parent.parent,
    )
    stdout = proc.stdout.read() if proc.stdout else b""
    if proc.wait() != 0:
        raise RuntimeError(f"bench phase {phase} failed with status {proc.returncode}")
    line = [ln for ln in stdout.decode().splitlines() if ln.startswith("{")][-1]
    return json.loads(line)


@app.command()
def quality(
    scale: float = typer.Option(1.0, help="Sandbox scale (1.0 = 10,000 leads; 100 = 1,000,000)."),
    seed: int = typer.Option(7, help="Sandbox seed."),
    dedup: bool = typer.Option(True, help="Also measure the identity map."),
    gx: bool = typer.Option(True, help="Also measure validation with Great Expectations + Data Docs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Validate (and deduplicate) the sandbox's leads; rows, seconds and peak RSS per phase."""
    console = Console(stderr=as_json)
    with tempfile.TemporaryDirectory(prefix="sfa-bench-quality-") as tmp:
        warehouse, docs = Path(tmp) / "bench.duckdb", Path(tmp) / "data_docs"
        start = time.perf_counter()
        with console.status(f"landing sandbox leads at scale {scale}"):
            rows = land_leads(warehouse, seed, scale)
        console.print(f"landed {rows:,} leads in {time.perf_counter() - start:.1f} s")
        phases = ["validate"] + (["validate+gx"] if gx else []) + (["dedup"] if dedup else [])
        results = {}
        for phase in phases:
            with console.status(f"measuring {phase}"):
                results[phase] = measure(phase, warehouse, docs)
    if as_json:
        print(json.dumps({"rows": rows, "scale": scale, "phases": results}, indent=2))
        return
    table = Table(title=f"quality bench: {rows:,} leads (seed {seed}, scale {scale})")
    for col in ("phase", "rows", "seconds", "CPU s", "peak RSS MiB", "rows/s", "budget"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for phase, r in results.items():
        ok = r["seconds"] <= BUDGET_SECONDS and r["peak_rss_mib"] < BUDGET_RSS_MIB
        # The budget is stated for 1,000,000 leads; smaller runs are dominated by fixed costs.
        verdict = ("met" if ok else "MISSED") if phase.startswith("validate") and rows >= 1_000_000 else "-"
        table.add_row(phase, f"{rows:,}", f"{r['seconds']:.2f}", f"{r['cpu_seconds']:.1f}", f"{r['peak_rss_mib']:.0f}",
                      f"{rows / r['seconds']:,.0f}", verdict)
    console.print(table)
    for phase in results:
        console.print(f"  {phase}: {PHASES[phase]}")
    console.print(f"budget (judged at >= 1,000,000 leads): validation <= {BUDGET_SECONDS:.0f} s, "
                  f"peak RSS < {BUDGET_RSS_MIB:.0f} MiB. CPU s = user+sys of the phase (all threads): "
                  f"on a busy machine wall seconds exceed CPU / threads.")


if __name__ == "__main__":
    app()
