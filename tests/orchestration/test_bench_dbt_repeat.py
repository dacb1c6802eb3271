"""`sfa bench dbt --repeat N --full-repeat M`: every full build starts from the warehouse as landed,
every incremental run from the warehouse the full build left, and the medians are what the ratio
uses; the no-change build runs on the full build's warehouse too. dbt and the
World are replaced by stand-ins, so this checks the benchmark's bookkeeping, not dbt; and `run_dbt`
tells a command's CPU time from its wall time."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from orchestration import bench_dbt


def test_repeated_incremental_runs_start_from_the_full_build(tmp_path: Path, monkeypatch) -> None:
    def land_world(warehouse: Path, seed: int, scale: float) -> tuple[int, str]:
        con = duckdb.connect(str(warehouse))
        con.execute("create table changes (batch varchar)")
        con.close()
        return 1, "2026-10-31"

    def change_records(warehouse: Path) -> tuple[int, dict[str, int]]:
        con = duckdb.connect(str(warehouse))
        con.execute("insert into changes values ('bench-change')")
        con.close()
        return 1, {"changes": 1}

    incremental_seconds = iter([3.0, 1.0, 2.0])
    full_seconds = iter([12.0, 9.0, 10.0])
    # (label, changes in the warehouse) of every build, in order; a full build leaves a table behind
    changes_seen: list[tuple[str, int]] = []

    def run_dbt(args, env, log_dir, label="dbt", poll_seconds=0.1):
        if label.startswith("full"):
            con = duckdb.connect(env["SFA_WAREHOUSE"])
            built_before = con.execute("select count(*) from duckdb_tables() where table_name = 'built'").fetchone()[0]
            con.execute("create table built (label varchar)")
            con.close()
            changes_seen.append((label, built_before))
            seconds = next(full_seconds)
            return bench_dbt.DbtRun(seconds, 100.0, 4 * seconds, {"results": []})
        con = duckdb.connect(env["SFA_WAREHOUSE"], read_only=True)
        changes_seen.append((label, con.execute("select count(*) from changes").fetchone()[0]))
        con.close()
        if label == "unchanged":
            return bench_dbt.DbtRun(0.5, 40.0, 1.0, {"results": []})
        seconds = next(incremental_seconds)
        return bench_dbt.DbtRun(seconds, 50.0, 3 * seconds, {"results": []})

    monkeypatch.setattr(bench_dbt, "land_world", land_world)
    monkeypatch.setattr(bench_dbt, "build_quality", lambda warehouse: (0, "stand-in"))
    monkeypatch.setattr(bench_dbt, "change_records", change_records)
    monkeypatch.setattr(bench_dbt, "run_dbt", run_dbt)

    report = bench_dbt.run_benchmark(1, 7, tmp_path, repeat=3, full_repeat=3, echo=lambda message: None)

    # Each full build started from the warehouse as landed (no table of the previous one); the
    # no-change build ran once, next, on the full build's warehouse; each incremental run saw only
    # its own change: the warehouse was restored before every one.
    assert changes_seen == [("full", 0), ("full_2", 0), ("full_3", 0), ("unchanged", 0),
                            ("incremental", 1), ("incremental_2", 1), ("incremental_3", 1)]
    full = report["steps"][2]
    assert full["step"] == "dbt build (full, median of 3)"
    assert full["seconds"] == 10.0 and full["cpu_seconds"] == 40.0
    assert full["detail"]["runs_seconds"] == [12.0, 9.0, 10.0]
    incremental = report["steps"][-1]
    assert incremental["step"] == "dbt build (incremental, median of 3)"
    assert incremental["seconds"] == 2.0
    assert incremental["detail"]["runs_seconds"] == [3.0, 1.0, 2.0]
    assert incremental["cpu_seconds"] == 6.0 and report["cpu_ratio"] == 0.15
    assert report["ratio"] == 0.2 and report["passed"]
    floor = next(s for s in report["steps"] if s["step"].startswith("dbt build, nothing changed"))
    assert floor["seconds"] == 0.5 and report["floor_ratio"] == 0.05
    assert [s["step"] for s in report["steps"]].count("append changed versions (1% of every stream)") == 1
    assert not (tmp_path / "after_full.duckdb").exists() and not (tmp_path / "before_full.duckdb").exists()


def test_run_dbt_measures_the_cpu_of_the_dbt_process(tmp_path: Path, monkeypatch) -> None:
    """A stand-in `dbt` that computes for 0.4 s of CPU and then sleeps 0.6 s must report at least
    1 s of wall time and about 0.4 s of CPU."""
    fake = tmp_path / "bin" / "dbt"
    fake.parent.mkdir()
    fake.write_text(f"""#!{sys.executable}
import json, sys, time
from pathlib import Path
start = time.process_time()
while time.process_time() - start < 0.4:
    pass
time.sleep(0.6)
target = Path(sys.argv[sys.argv.index("--target-path") + 1])
target.mkdir(parents=True, exist_ok=True)
(target / "run_results.json").write_text(json.dumps({{"results": []}}))
""")
    fake.chmod(0o755)
    monkeypatch.setattr(bench_dbt, "DBT_BIN", fake)

    run = bench_dbt.run_dbt(["build"], {}, tmp_path / "dbt", "stand-in", poll_seconds=0.02)

    assert run.seconds >= 1.0
    assert 0.4 <= run.cpu_seconds < 0.9
    assert run.results == {"results": []}
