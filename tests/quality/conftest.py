"""Fixtures for the quality tests: hand-made raw tables and one sandbox world landed once."""

from __future__ import annotations

import json
import os
import pickle
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from extractors.landing import land_records
from extractors.streams import record_keys

SANDBOX_SEED = 7
SANDBOX_SCALE = 0.2
GX_STREAMS = ("crm_leads", "crm_opportunities", "erp_payments")


def land(con: duckdb.DuckDBPyConnection, stream: str, records: Sequence[dict], batch_id: str | None = None) -> str:
    """Land hand-made records as one batch of `stream`; returns the batch id."""
    from extractors.landing import new_batch_id

    batch = batch_id or new_batch_id()
    source = {"crm": "crm", "mkt": "marketing", "erp": "erp"}[stream.split("_")[0]]
    land_records(con, stream, [list(records)], source=source, keys=record_keys(stream), batch_id=batch)
    return batch


@pytest.fixture
def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield con
    con.close()


@pytest.fixture
def lander(warehouse: duckdb.DuckDBPyConnection) -> Callable[..., str]:
    return lambda stream, records, batch_id=None: land(warehouse, stream, records, batch_id)


@dataclass
class SandboxRun:
    con: duckdb.DuckDBPyConnection
    truth: dict
    report: object  # quality.run.QualityReport
    docs_dir: Path


def _build_sandbox_run(base: Path) -> None:
    """Land every stream of the World, validate (GE on GX_STREAMS) and deduplicate, into `base`."""
    from extractors.sandbox.world import World
    from quality.run import run_quality

    con = duckdb.connect(str(base / "wh.duckdb"))
    try:
        world = World(SANDBOX_SEED, SANDBOX_SCALE)
        for stream in world.streams():
            land_records(con, stream, world.pages(stream), source=world.source(stream), keys=record_keys(stream))
        # Great Expectations on the streams with injected defects (GE costs ~0.5 s a stream).
        report = run_quality(con, docs_dir=base / "data_docs", great_expectations=GX_STREAMS)
    finally:
        con.close()
    (base / "truth.json").write_text(json.dumps(world.truth()), encoding="utf-8")
    (base / "report.pickle").write_bytes(pickle.dumps(report))


@pytest.fixture(scope="session")
def sandbox_run(tmp_path_factory: pytest.TempPathFactory) -> SandboxRun:
    """World(seed 7, scale 0.2) landed, validated and deduplicated once per test run.

    Under xdist the workers share one build (a file lock; the first builds, the others copy
    the warehouse), since both workers building it would double the slowest fixture.
    """
    run_uid = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_uid:
        shared = tmp_path_factory.getbasetemp().parent / f"quality_sandbox_{run_uid}"
        shared.mkdir(exist_ok=True)
        with FileLock(str(shared) + ".lock"):
            if not (shared / "report.pickle").exists():
                _build_sandbox_run(shared)
    else:
        shared = tmp_path_factory.mktemp("quality_sandbox_build")
        _build_sandbox_run(shared)
    mine = tmp_path_factory.mktemp("quality_sandbox")
    shutil.copy(shared / "wh.duckdb", mine / "wh.duckdb")
    con = duckdb.connect(str(mine / "wh.duckdb"))
    truth = json.loads((shared / "truth.json").read_text(encoding="utf-8"))
    report = pickle.loads((shared / "report.pickle").read_bytes())
    yield SandboxRun(con=con, truth=truth, report=report, docs_dir=shared / "data_docs")
    con.close()
