"""The lead and opportunity snapshots read only what can have changed, and still version correctly.

A copy of the session's built warehouse (conftest `duckdb_build`, whose `dbt build` ran the first,
full-read snapshot) gets new raw versions: a check-column edit, an edit of a column the snapshot does
not check, an identical re-extraction, a tombstone, a new lead, and a lead moved into quarantine.
The base tables and snapshots then run incrementally: exactly the edited and tombstoned records get
a new version, the quarantined lead keeps its last version, and the compiled snapshot query reads
only rows past the watermark. A second run releases ids from quarantine without any new raw row:
an id the snapshot never held gets its first version, one it kept stays as it was.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from extractors.landing import land_records
from extractors.streams import record_keys
from tests.dbt.conftest import DBT_PROJECT_DIR, dbt_output, run_dbt

DAY_MS = 86_400_000
LEAD_CHECK_COLS = ["biz_status", "leads_stage", "owner_id", "leads_pool_id", "mql_at", "sql_at", "opportunity_id",
                   "is_deleted"]
OPPORTUNITY_CHECK_COLS = ["sales_stage", "sales_status", "amount", "currency", "close_date", "probability",
                          "forecast_category", "owner_id", "is_deleted"]
SNAPSHOTS = {"leads_snapshot": ("lead_id", "stg_crm__leads", LEAD_CHECK_COLS),
             "opportunities_snapshot": ("opportunity_id", "stg_crm__opportunities", OPPORTUNITY_CHECK_COLS)}


def _versions(con: duckdb.DuckDBPyConnection, snapshot: str) -> dict[str, tuple]:
    """dbt_scd_id -> (id, dbt_valid_from, dbt_valid_to, is_deleted)."""
    key = SNAPSHOTS[snapshot][0]
    return {r[0]: r[1:] for r in con.execute(
        f"select dbt_scd_id, {key}, dbt_valid_from, dbt_valid_to, is_deleted from snapshots.{snapshot}").fetchall()}


def _all_versions(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, tuple]]:
    return {snapshot: _versions(con, snapshot) for snapshot in SNAPSHOTS}


def _latest_raw(con: duckdb.DuckDBPyConnection, stream: str, record_id: str) -> dict:
    return json.loads(con.execute(
        f"select _record from raw.{stream} where _record_id = ? "
        "order by _cursor desc nulls last, _extracted_at desc, _batch_id desc limit 1", [record_id]).fetchone()[0])


def _new_version(record: dict, **changes: object) -> dict:
    """A later version of `record` (cursor one day on) with `changes`."""
    version = copy.deepcopy(record)
    version.update(changes, last_modified_time=record["last_modified_time"] + DAY_MS)
    return version


def _current_ids(con: duckdb.DuckDBPyConnection, snapshot: str, where: str = "true") -> list[str]:
    key = SNAPSHOTS[snapshot][0]
    return [r[0] for r in con.execute(
        f"select {key} from snapshots.{snapshot} where dbt_valid_to is null and {where} order by {key}").fetchall()]


def _snapshot_code(work: Path) -> dict[str, str]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["compiled_code"] for r in results
            if r["unique_id"].split(".")[-1] in SNAPSHOTS}


def _assert_current_matches_staging(con: duckdb.DuckDBPyConnection, kept: dict[str, set[str]]) -> None:
    """Every staged record's check columns are its current version's; ids outside staging stay
    current only when listed in `kept` (quarantined after their last version)."""
    for snapshot, (key, staging, check_cols) in SNAPSHOTS.items():
        differing = con.execute(f"""
            select {key} from staging.{staging} as staged
            where not exists (
                select 1 from snapshots.{snapshot} as current
                where current.dbt_valid_to is null and current.{key} = staged.{key}
                    and {' and '.join(f'current.{c} is not distinct from staged.{c}' for c in check_cols)})
        """).fetchall()
        assert not differing, (snapshot, differing[:5])
        extra = {r[0] for r in con.execute(f"""
            select {key} from snapshots.{snapshot}
            where dbt_valid_to is null and {key} not in (select {key} from staging.{staging})
        """).fetchall()}
        assert extra == kept.get(snapshot, set()), (snapshot, extra)
        assert con.execute(f"select count(*) - count(distinct {key}) from snapshots.{snapshot} "
                           "where dbt_valid_to is null").fetchone()[0] == 0


def _build(staging: list[str], env: dict[str, str], work: Path) -> None:
    """The staging models (view or table: rebuilding either is right), then both snapshots."""
    run_dbt(["build", "--select", *staging, *SNAPSHOTS, "--resource-type", "model", "--resource-type", "snapshot"],
            env, work)


@pytest.fixture(scope="module")
def snapshot_run(duckdb_build: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The built warehouse copied, new versions landed, base tables and both snapshots run again."""
    work = tmp_path_factory.mktemp("snapshot_incremental")
    warehouse = work / "sfa.duckdb"
    shutil.copy(duckdb_build["warehouse"], warehouse)
    if duckdb_build["warehouse"].with_suffix(".duckdb.wal").exists():
        shutil.copy(duckdb_build["warehouse"].with_suffix(".duckdb.wal"), warehouse.with_suffix(".duckdb.wal"))
    env = {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": duckdb_build["as_of_date"]}

    con = duckdb.connect(str(warehouse))
    try:
        live = _current_ids(con, "leads_snapshot", "not is_deleted and biz_status is not null")
        edited, renamed, reextracted, tombstoned, quarantined = live[:5]
        opportunities = _current_ids(con, "opportunities_snapshot", "not is_deleted and sales_stage is not null")
        opp_edited, opp_tombstoned = opportunities[:2]
        before = _all_versions(con)

        lead = {i: _latest_raw(con, "crm_leads", i) for i in (edited, renamed, reextracted, tombstoned)}
        status = lead[edited]["biz_status"]
        new_lead = copy.deepcopy(lead[renamed])
        new_lead["_id"] = "snapshot-test-new-lead"
        land_records(con, "crm_leads", [[
            _new_version(lead[edited], biz_status="processed" if status == "closed" else "closed"),
            _new_version(lead[renamed], name="Renamed In Snapshot Test"),  # not a check column
            lead[reextracted],  # the same version extracted again
            _new_version(lead[tombstoned], is_deleted=True, life_status="invalid"),
            new_lead,
        ]], source="crm", keys=record_keys("crm_leads"))
        opp = {i: _latest_raw(con, "crm_opportunities", i) for i in (opp_edited, opp_tombstoned)}
        stage = opp[opp_edited]["sales_stage"]
        land_records(con, "crm_opportunities", [[
            _new_version(opp[opp_edited], sales_stage="proposal" if stage != "proposal" else "negotiation"),
            _new_version(opp[opp_tombstoned], is_deleted=True, life_status="invalid"),
        ]], source="crm", keys=record_keys("crm_opportunities"))
        # Leaves staging without a tombstone: its last version must stay current.
        con.execute("insert into quality.quarantine_current values ('crm_leads', ?, 'orphan', 'error', 'test')",
                    [quarantined])
    finally:
        con.close()

    _build(["base_crm__leads", "stg_crm__leads", "base_crm__opportunities", "stg_crm__opportunities"], env,
           work / "run1")
    return {"warehouse": warehouse, "work": work, "env": env, "before": before, "edited": edited, "renamed": renamed,
            "reextracted": reextracted, "tombstoned": tombstoned, "quarantined": quarantined,
            "new_lead": new_lead["_id"], "opp_edited": opp_edited, "opp_tombstoned": opp_tombstoned}


def test_only_changed_check_columns_make_new_versions(snapshot_run: dict) -> None:
    run = snapshot_run
    code = _snapshot_code(run["work"] / "run1")
    for snapshot, compiled in code.items():
        assert "changed.extracted_at >=" in compiled, snapshot
        assert "unseen" not in compiled, snapshot  # every staged id already had a current version
    con = duckdb.connect(str(run["warehouse"]), read_only=True)
    try:
        after = _all_versions(con)
        expected = {"leads_snapshot": ({run["edited"], run["tombstoned"]}, {run["new_lead"]}),
                    "opportunities_snapshot": ({run["opp_edited"], run["opp_tombstoned"]}, set())}
        for snapshot, (changed, new_ids) in expected.items():
            before = run["before"][snapshot]
            closed = {v[0] for scd, v in after[snapshot].items()
                      if scd in before and before[scd][2] is None and v[2] is not None}
            created = {v[0] for scd, v in after[snapshot].items() if scd not in before}
            assert closed == changed, snapshot
            assert created == changed | new_ids, snapshot
            # Nothing else moved: every earlier version is as it was, apart from closing the changed ones.
            assert {scd: v for scd, v in after[snapshot].items() if scd in before and v[0] not in changed} == {
                scd: v for scd, v in before.items() if v[0] not in changed}
            for record_id in changed:
                rows = sorted((v[1], v[2], v[3]) for v in after[snapshot].values() if v[0] == record_id)
                assert rows[-2][1] == rows[-1][0] and rows[-1][1] is None  # closed where the new one starts
            for record_id in changed - {run["edited"], run["opp_edited"]}:  # the tombstones
                assert [v[3] for v in after[snapshot].values() if v[0] == record_id and v[2] is None] == [True]
        _assert_current_matches_staging(con, {"leads_snapshot": {run["quarantined"]}})
    finally:
        con.close()


def test_ids_released_from_quarantine(snapshot_run: dict) -> None:
    """Released without a new raw row: an id never snapshotted gets its first version (read by the
    no-current-version branch, though it is older than the watermark); the one kept current while
    quarantined stays one unchanged version."""
    run = snapshot_run
    con = duckdb.connect(str(run["warehouse"]))
    try:
        never = [r[0] for r in con.execute(
            "select record_id from quality.quarantine_current where stream = 'crm_leads' "
            "and record_id not in (select lead_id from snapshots.leads_snapshot) "
            "and record_id in (select lead_id from staging.base_crm__leads) order by record_id").fetchall()]
        assert never, "the sandbox quarantines no lead: nothing to release"
        released = never[0]
        con.execute("delete from quality.quarantine_current where stream = 'crm_leads' and record_id in (?, ?)",
                    [released, run["quarantined"]])
        before = _all_versions(con)
    finally:
        con.close()

    _build(["stg_crm__leads"], run["env"], run["work"] / "run2")
    assert "unseen" in _snapshot_code(run["work"] / "run2")["leads_snapshot"]
    con = duckdb.connect(str(run["warehouse"]), read_only=True)
    try:
        after = _all_versions(con)
        assert after["opportunities_snapshot"] == before["opportunities_snapshot"]
        new = [v for scd, v in after["leads_snapshot"].items() if scd not in before["leads_snapshot"]]
        assert [(v[0], v[2]) for v in new] == [(released, None)]
        assert {scd: v for scd, v in after["leads_snapshot"].items() if scd in before["leads_snapshot"]} == \
            before["leads_snapshot"]
        _assert_current_matches_staging(con, {})
    finally:
        con.close()


def test_snapshot_columns_are_the_documented_ones(snapshot_run: dict) -> None:
    """The column list stays the documented one when staging gains a bookkeeping column."""
    documented = {entry["name"]: [c["name"] for c in entry["columns"]] for entry in yaml.safe_load(
        (DBT_PROJECT_DIR / "snapshots" / "snapshots.yml").read_text())["snapshots"]}
    con = duckdb.connect(str(snapshot_run["warehouse"]), read_only=True)
    try:
        for snapshot in SNAPSHOTS:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'snapshots' "
                "and table_name = ? order by ordinal_position", [snapshot]).fetchall()]
            assert sorted(columns) == sorted(documented[snapshot]), snapshot
    finally:
        con.close()


def _snapshot_columns(warehouse: Path) -> dict[str, list[str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {snapshot: [column[0] for column in con.execute(f"describe snapshots.{snapshot}").fetchall()]
                for snapshot in SNAPSHOTS}
    finally:
        con.close()


def test_snapshots_survive_a_partial_parse_after_a_macro_change(duckdb_build: dict, tmp_path: Path) -> None:
    """When a macro a SQL snapshot calls changes, dbt 1.11's partial parsing re-parses the snapshot
    file and drops what snapshots.yml says about it. With the config in the YAML that stopped every
    run ("Snapshots must be configured with a 'strategy' and 'unique_key'"); without the YAML's
    columns the snapshot would have read `*` and added staging's bookkeeping columns to the history.
    On a copy of the project: a full parse, a macro edited, then the snapshots run through the
    partial parse and keep exactly their columns."""
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    warehouse = tmp_path / "sfa.duckdb"
    shutil.copy(duckdb_build["warehouse"], warehouse)
    env = {"SFA_WAREHOUSE": str(warehouse), "SFA_AS_OF_DATE": duckdb_build["as_of_date"], "SFA_DBT_TARGET": "duckdb"}
    columns_before = _snapshot_columns(warehouse)
    assert dbt_output(["parse"], env, tmp_path, project_dir=project).returncode == 0
    with open(project / "macros" / "incremental_keys.sql", "a", encoding="utf-8") as macros:
        macros.write("\n{#- edited after the last parse -#}\n")

    run = dbt_output(["snapshot", "--select", *SNAPSHOTS], env, tmp_path, project_dir=project)

    assert run.returncode == 0, run.stdout[-3000:]
    assert "full parse" not in run.stdout  # the partial parse is what this is about
    assert "Done. PASS=2 " in run.stdout
    assert _snapshot_columns(warehouse) == columns_before
