"""`sfa-dbt` (orchestration/dbt_cli.py): dbt's CLI with the cyclic GC off and no interpreter teardown,
same exit codes."""

from __future__ import annotations

import gc
import subprocess
import sys
import types
from pathlib import Path

import duckdb
import mashumaro.config
import pytest

from orchestration import dbt_cli
from tests.dbt.conftest import DBT_PROJECT_DIR, dbt_output



@pytest.fixture
def fake_dbt_cli(monkeypatch):
    """dbt.cli.main.cli replaced by a stand-in that records whether the collector was on."""
    seen: dict[str, bool] = {}
    module = types.ModuleType("dbt.cli.main")

    def cli() -> None:
        seen["gc_enabled"] = gc.isenabled()
        seen["lazy_serializers"] = mashumaro.config.BaseConfig.lazy_compilation
        if "exit_code" in seen:
            raise SystemExit(seen["exit_code"])

    module.cli = cli
    monkeypatch.setitem(sys.modules, "dbt.cli.main", module)
    monkeypatch.setenv("SFA_DBT_CACHE", "off")
    was_enabled = gc.isenabled()
    monkeypatch.setattr(mashumaro.config.BaseConfig, "lazy_compilation", False)
    yield seen
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_dbt_runs_with_the_collector_off(fake_dbt_cli, monkeypatch) -> None:
    monkeypatch.delenv("SFA_DBT_GC", raising=False)
    assert dbt_cli.run() == 0
    assert fake_dbt_cli == {"gc_enabled": False, "lazy_serializers": True}


def test_sfa_dbt_gc_on_keeps_the_collector(fake_dbt_cli, monkeypatch) -> None:
    monkeypatch.setenv("SFA_DBT_GC", "on")
    assert dbt_cli.run() == 0
    assert fake_dbt_cli == {"gc_enabled": True, "lazy_serializers": True}


@pytest.mark.parametrize("code", [0, 1, 2])
def test_run_returns_the_code_click_exits_with(fake_dbt_cli, code) -> None:
    fake_dbt_cli["exit_code"] = code
    assert dbt_cli.run() == code


def test_the_launcher_is_dbt_with_its_exit_codes_and_no_leak_report() -> None:
    """The installed console script: dbt's version, dbt's usage error (exit 2) for an unknown
    command, and none of the nanobind "leaked instance" lines DuckDB's module prints at exit
    when its objects were left frozen."""
    version = subprocess.run([str(dbt_cli.EXECUTABLE), "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0
    assert "1.11." in version.stdout
    assert "leaked" not in version.stderr

    bad = subprocess.run([str(dbt_cli.EXECUTABLE), "no-such-command"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "No such command" in bad.stderr


def test_a_dbt_command_leaves_the_warehouse_checkpointed_and_its_log_complete(tmp_path) -> None:
    """The launcher skips the interpreter's teardown, not the exit handlers: after `sfa-dbt seed`
    the DuckDB WAL has been checkpointed into the database file (no .wal file left), the seed's rows
    are there for the next reader, and dbt's log file and stdout hold dbt's last lines."""
    warehouse = tmp_path / "sfa.duckdb"
    result = dbt_output(["seed", "--select", "channels", "--no-use-colors"],
                        {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb"}, tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Done. PASS=1 " in result.stdout
    assert "leaked" not in result.stderr
    assert warehouse.exists() and not Path(f"{warehouse}.wal").exists()
    with open(DBT_PROJECT_DIR / "seeds" / "channels.csv", encoding="utf-8") as csv:
        expected_rows = sum(1 for _ in csv) - 1
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        [(schema,)] = con.execute("select schema_name from duckdb_tables() where table_name = 'channels'").fetchall()
        assert con.execute(f'select count(*) from "{schema}".channels').fetchone()[0] == expected_rows > 0
    finally:
        con.close()
    # The file log is at info level: its last line is dbt's summary.
    assert "Done. PASS=1 " in (tmp_path / "logs" / "dbt.log").read_text(encoding="utf-8").rstrip().splitlines()[-1]
