"""The whole pipeline, as `make run` runs it, on a small sandbox: every layer, one run.

One `sfa run` subprocess per module (about a minute at scale 0.1); the tests read what it left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("e2e")]

SEED, SCALE = 11, 0.1


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    home = tmp_path_factory.mktemp("pipeline")
    env = {
        **os.environ,
        "SFA_WAREHOUSE_DIR": str(home / "warehouse"),
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    env.pop("SFA_WAREHOUSE", None)
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--seed", str(SEED), "--scale", str(SCALE)],
        env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    warehouse = home / "warehouse"
    truth = json.loads((warehouse / "sandbox_truth.json").read_text())
    con = duckdb.connect(str(warehouse / "sfa.duckdb"), read_only=True)
    yield {"home": home, "warehouse": warehouse, "truth": truth, "con": con, "stdout": proc.stdout}
    con.close()


def test_raw_counts_equal_what_the_sandbox_served(run):
    con, served = run["con"], run["truth"]["served_counts"]
    assert len(served) >= 20
    landed = {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in served}
    assert landed == served
    assert "sandbox served" in run["stdout"]  # the summary table printed for the user


def test_truth_figures_reproduced_by_the_marts(run):
    con, figures = run["con"], run["truth"]["figures"]
    kpi = con.execute("select distinct_people, won_deals, lost_deals, win_rate from marts.sales_kpi_summary").fetchone()
    assert kpi[0] == figures["distinct_people"]
    assert (kpi[1], kpi[2]) == (figures["won"], figures["lost"])
    assert round(kpi[3], 4) == Decimal(figures["win_rate"])
    by_month = dict(con.execute("select close_month, won_revenue_cny from marts.won_revenue_by_month").fetchall())
    assert {m: f"{v:.2f}" for m, v in by_month.items() if v} == figures["won_revenue_by_month"]
    funnel = {
        row[0]: dict(zip(("leads", "mql", "sql", "opportunity", "won"), row[1:]))
        for row in con.execute("select channel, leads, mql, sql, opportunity, won from marts.lead_funnel_by_channel").fetchall()
    }  # fmt: skip
    assert funnel == figures["funnel_by_channel"]


def test_exports_manifest_matches_every_mart(run):
    con = run["con"]
    marts = {t for (t,) in con.execute("select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    manifest = json.loads((run["warehouse"] / "exports" / "manifest.json").read_text())
    exported = {Path(t["path"]).stem: t["rows"] for t in manifest["tables"]}
    assert set(exported) == marts and len(marts) >= 10
    for name, rows in exported.items():
        assert con.execute(f"select count(*) from marts.{name}").fetchone()[0] == rows
        assert (run["warehouse"] / "exports" / f"{name}.parquet").exists()


def test_quality_outputs_for_ops(run):
    con = run["con"]
    assert (run["warehouse"] / "quality" / "data_docs" / "index.html").exists()
    bad = con.execute(
        "select count(*) from quality.batch_accounting where rows_in <> rows_passed + rows_quarantined"
    ).fetchone()[0]
    assert bad == 0
    streams_with_results = con.execute("select count(distinct stream) from quality.rule_results").fetchone()[0]
    assert streams_with_results == len(run["truth"]["served_counts"])
