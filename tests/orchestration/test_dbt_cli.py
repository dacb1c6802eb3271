"""`sfa-dbt` (orchestration/dbt_cli.py): dbt's CLI with the cyclic GC off, same exit codes."""

from __future__ import annotations

import gc
import subprocess
import sys
import types

import pytest

from orchestration import dbt_cli


@pytest.fixture
def fake_dbt_cli(monkeypatch):
    """dbt.cli.main.cli replaced by a stand-in that records whether the collector was on."""
    seen: dict[str, bool] = {}
    module = types.ModuleType("dbt.cli.main")

    def cli() -> None:
        seen["gc_enabled"] = gc.isenabled()

    module.cli = cli
    monkeypatch.setitem(sys.modules, "dbt.cli.main", module)
    was_enabled = gc.isenabled()
    yield seen
    gc.unfreeze()
    if was_enabled:
        gc.enable()


def test_dbt_runs_with_the_collector_off(fake_dbt_cli, monkeypatch) -> None:
    monkeypatch.delenv("SFA_DBT_GC", raising=False)
    dbt_cli.main()
    assert fake_dbt_cli == {"gc_enabled": False}


def test_sfa_dbt_gc_on_keeps_the_collector(fake_dbt_cli, monkeypatch) -> None:
    monkeypatch.setenv("SFA_DBT_GC", "on")
    dbt_cli.main()
    assert fake_dbt_cli == {"gc_enabled": True}


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
