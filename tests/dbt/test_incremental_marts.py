"""Key-incremental staging, intermediate and mart models equal a full refresh.

The models in `macros/incremental_keys.sql`'s pattern (stg tables with a canonical id, activity
links, enriched leads, lead people, lead scores, enriched opportunities and the `opportunities` mart)
recompute only the keys whose inputs changed; the other opportunity models are tables rebuilt in
full, fed by the same changes. A small
World is built, then every kind of change that can reach them without touching most rows lands at
once: an owner change, a
tombstone, a lead newly quarantined and one released from quarantine with no new version, identity
clusters merged and split, an activity moved to another lead, one emptied and one deleted, a
converted opportunity's amount, a rep moved to another team, a new engagement event; for open
opportunities a new stage change, a tombstone, an owner change, a tombstoned and a newly quarantined
stage change, all stage changes of one tombstoned, a stage change edited, one moved to another
opportunity and one released from quarantine, an opportunity released from quarantine and a new one
with no stage change. The incremental `dbt run` must then equal `dbt run --full-refresh` for every
relation in staging, intermediate and marts, row for row; so must a second incremental run with a
later as-of date and a full refresh at that date. That second run also lands a lead tombstone, an
activity moved to another lead and one emptied, with no quarantine or identity change, so the lead and
activity models take the path their unchanged input fingerprints allow (watermarks only, no diff of
every key). When the local Postgres answers, the first two
runs happen there too (raw and quality copied over before each) and the incremental Postgres build
must equal the DuckDB full refresh.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from extractors.landing import land_records
from extractors.sandbox.world import World
from extractors.streams import record_keys
from tests.conftest import PG_DSN, postgres_reachable
from tests.dbt.conftest import (
    built_columns,
    comparable_rows,
    copy_to_postgres,
    current_rows_sql,
    drop_postgres,
    land_with_empty_quality,
    run_dbt,
)

DAY_MS = 86_400_000
SCHEMAS = ("staging", "intermediate", "marts")
LATER_AS_OF_DATE = "2026-11-20"
NEW_DEAL_ID = "696bc1c9ffffffff00000001"


def _dbt(work: Path, warehouse: Path, command: str, *args: str, env: dict | None = None) -> None:
    run_dbt([command, *args], {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb",
                               "SFA_AS_OF_DATE": "2026-10-31", **(env or {})}, work)


def _value(v: object) -> object:
    # Sums of floats come out in a thread-dependent order: compare them to 9 significant digits.
    return float(f"{v:.9g}") if isinstance(v, float) else v


def _contents(warehouse: Path) -> dict[str, Counter]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {relation: Counter(repr(tuple(_value(v) for v in row))
                                  for row in con.execute(current_rows_sql(relation, columns)).fetchall())
                for relation, columns in built_columns(con, *SCHEMAS).items()}
    finally:
        con.close()


class PostgresMirror:
    """The same dbt runs on the local Postgres: raw and quality copied from the DuckDB warehouse
    before each run into fresh source schemas, dbt's own schemas kept between runs."""

    def __init__(self, work: Path, warehouse: Path) -> None:
        import psycopg2

        self.work, self.warehouse = work / "postgres", warehouse
        self.pg = psycopg2.connect(PG_DSN)
        self.prefix = f"sfa_i{os.getpid()}_"
        self.schemas = {"raw": self.prefix + "raw", "quality": self.prefix + "quality"}
        self.env = {"SFA_SCHEMA_PREFIX": self.prefix, "SFA_RAW_SCHEMA": self.schemas["raw"],
                    "SFA_QUALITY_SCHEMA": self.schemas["quality"]}

    def run(self, *args: str) -> None:
        with self.pg.cursor() as cur:
            for schema in self.schemas.values():
                cur.execute(f"drop schema if exists {schema} cascade")
        self.pg.commit()
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            copy_to_postgres(con, self.pg, self.schemas)
        finally:
            con.close()
        for command in ("seed", "run"):
            _dbt(self.work, self.warehouse, command, "--target", "postgres", *args, env=self.env)

    def contents(self, relations: dict[str, list[str]]) -> dict[str, list[tuple]]:
        out = {}
        with self.pg.cursor() as cur:
            for relation, columns in relations.items():
                cur.execute(current_rows_sql(relation, columns, self.prefix))
                out[relation] = comparable_rows(cur.fetchall())
        return out

    def drop(self) -> None:
        drop_postgres({"pg": self.pg, "prefix": self.prefix})


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> object:
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def changed_warehouse(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("incremental_marts")
    warehouse = work / "sfa.duckdb"
    world = World(seed=11, scale=0.05)
    leads = list(world.iter_records("crm_leads"))
    activities = list(world.iter_records("crm_activities"))
    opportunities = list(world.iter_records("crm_opportunities"))
    users = list(world.iter_records("crm_users"))
    departments = list(world.iter_records("crm_departments"))
    events = list(world.iter_records("mkt_engagement_events"))
    accounts = [a for a in world.iter_records("crm_accounts") if not a.get("is_deleted")]
    erp_customers = [c for c in world.iter_records("erp_customers") if c.get("active", True)]
    stage_changes: dict[str, list[dict]] = {}
    for change in world.iter_records("crm_opportunity_stage_changes"):
        stage_changes.setdefault(change["new_opportunity_id"], []).append(change)
    for changes in stage_changes.values():
        changes.sort(key=lambda change: (change["changed_time"], change["_id"]))

    def lead_activity(exclude: set[str]) -> tuple[dict, str]:
        for activity in activities:
            related = [r["id"] for r in activity.get("related_object_data") or [] if r.get("describe_api_name") == "LeadsObj"]
            if related and not activity.get("is_deleted") and not exclude & set(related):
                return activity, related[0]
        raise AssertionError("no activity related to a lead")

    converted = next(o for o in opportunities if o.get("leads_id") and not o.get("is_deleted"))
    owner_changed, tombstoned, quarantined, released, merged, cluster_a, cluster_b, new_target, engaged = (
        leads[i] for i in (5, 6, 7, 8, 9, 10, 11, 12, 13))
    moved, moved_from = lead_activity(set())
    emptied, emptied_from = lead_activity({moved_from})
    deleted_activity, deleted_from = lead_activity({moved_from, emptied_from})
    late_moved, late_moved_from = lead_activity({moved_from, emptied_from, deleted_from})
    late_emptied, late_emptied_from = lead_activity({moved_from, emptied_from, deleted_from, late_moved_from})
    late_tombstoned = next(lead for lead in leads[14:] if not lead.get("is_deleted")
                           and lead["_id"] not in (late_moved_from, late_emptied_from))
    rep = next(u for u in users if u["openUserId"] == owner_changed["owner"][0])
    # Customers: accounts a and b and one ERP customer form a cluster, accounts c and `quarantined`
    # another; then `joining` joins the first and b leaves it, `quarantined` is quarantined (its
    # cluster loses a member and gains none), one account is tombstoned and one ERP customer's
    # credit limit edited.
    account_a, account_b, joining, account_tombstoned, account_quarantined, account_c = accounts[:6]
    erp_clustered, erp_edited = erp_customers[:2]
    assert any((a.get("owner") or [None])[0] == rep["openUserId"] for a in accounts[6:]), "no account of the moved rep"
    other_team = next(d for d in departments if d["parentId"] not in (0, None) and d["id"] != rep.get("mainDepartmentId")
                      and d["parentId"] != 999999)
    # Open deals with at least two stage changes, none owned by the moved rep (whose deals change
    # through the team alone), each taking one kind of change.
    open_deals = [o for o in opportunities if o.get("sales_status") == "in_progress" and not o.get("is_deleted")
                  and o["_id"] != converted["_id"] and (o.get("owner") or [None])[0] != rep["openUserId"]
                  and len(stage_changes.get(o["_id"], [])) >= 2]
    (staged, opportunity_tombstoned, reassigned, change_deleted, change_quarantined, changes_emptied, change_edited,
     change_moved, change_released) = open_deals[:9]
    opportunity_released = next(o for o in opportunities if o.get("sales_status") != "in_progress"
                                and not o.get("is_deleted") and o["_id"] != converted["_id"]
                                and (o.get("owner") or [None])[0] != rep["openUserId"] and stage_changes.get(o["_id"]))

    con = duckdb.connect(str(warehouse))
    try:
        # Small pages: the opportunity streams are short, and a record in the newest page is read
        # again by every incremental run (`>=` watermarks), which would hide a missed change.
        land_with_empty_quality(con, world, page_size=5)
        for stream, record_id in [("crm_opportunities", o["_id"]) for o in
                                  (staged, opportunity_tombstoned, reassigned, change_deleted, change_quarantined,
                                   opportunity_released)] + [
                                  ("crm_opportunity_stage_changes", stage_changes[o["_id"]][-1]["_id"])
                                  for o in (change_deleted, change_quarantined, change_released)]:
            assert _one(con, f"select max(_extracted_at) < (select max(_extracted_at) from raw.{stream}) "
                             f"from raw.{stream} where _record_id = ?", [record_id]), (stream, record_id)
        con.execute("insert into quality.quarantine_current values ('crm_leads', ?, 'orphan', 'error', 'test')",
                    [released["_id"]])
        con.execute("insert into quality.quarantine_current values ('crm_opportunities', ?, 'orphan', 'error', 'test')",
                    [opportunity_released["_id"]])
        con.execute("insert into quality.quarantine_current values ('crm_opportunity_stage_changes', ?, 'orphan', "
                    "'error', 'test')", [stage_changes[change_released["_id"]][-1]["_id"]])
        con.executemany("insert into quality.identity_map values ('crm_leads', 'crm', ?, 'person:cluster')",
                        [[cluster_a["_id"]], [cluster_b["_id"]]])
        con.executemany("insert into quality.identity_map values (?, ?, ?, 'customer:cluster')",
                        [["crm_accounts", "crm", account_a["_id"]], ["crm_accounts", "crm", account_b["_id"]],
                         ["erp_customers", "erp", str(erp_clustered["id"])]])
        con.executemany("insert into quality.identity_map values ('crm_accounts', 'crm', ?, 'customer:other')",
                        [[account_c["_id"]], [account_quarantined["_id"]]])
    finally:
        con.close()
    _dbt(work, warehouse, "seed")
    _dbt(work, warehouse, "run")
    mirror = PostgresMirror(work, warehouse) if postgres_reachable() is None else None
    if mirror:
        mirror.run()

    con = duckdb.connect(str(warehouse))
    try:
        later = lambda record: {**copy.deepcopy(record), "last_modified_time": record["last_modified_time"] + DAY_MS}  # noqa: E731
        new_owner = next(u["openUserId"] for u in users if u["openUserId"] != rep["openUserId"])
        lead_versions = [
            {**later(owner_changed), "owner": [new_owner]},
            {**later(tombstoned), "is_deleted": True, "life_status": "invalid"},
        ]
        land_records(con, "crm_leads", [lead_versions], source="crm", keys=record_keys("crm_leads"))
        activity_versions = [
            {**later(moved), "related_object_data": [{"describe_api_name": "LeadsObj", "id": new_target["_id"]}]},
            {**later(emptied), "related_object_data": []},
            {**later(deleted_activity), "is_deleted": True, "life_status": "invalid"},
        ]
        land_records(con, "crm_activities", [activity_versions], source="crm", keys=record_keys("crm_activities"))
        amount = f"{float(converted['amount']) + 1234.56:.2f}"
        land_records(con, "crm_opportunities", [[{**later(converted), "amount": amount}]], source="crm",
                     keys=record_keys("crm_opportunities"))
        last_change = stage_changes[staged["_id"]][-1]
        changed_time = last_change["changed_time"] + DAY_MS
        new_change = {**copy.deepcopy(last_change), "_id": "65117b1cffffffff00000001", "name": "SC-99999999",
                      "from_stage": last_change["to_stage"], "to_stage": "negotiation", "changed_time": changed_time,
                      "create_time": changed_time, "last_modified_time": changed_time}
        deleted_change = stage_changes[change_deleted["_id"]][-1]
        reassigned_to = next(u["openUserId"] for u in users
                             if u["openUserId"] not in (rep["openUserId"], (reassigned.get("owner") or [None])[0]))
        land_records(con, "crm_opportunity_stage_changes",
                     [[new_change, {**later(deleted_change), "is_deleted": True, "life_status": "invalid"},
                       {**later(stage_changes[change_edited["_id"]][0]), "amount": "4321.00"},
                       {**later(stage_changes[change_moved["_id"]][0]), "new_opportunity_id": change_edited["_id"]}]
                      + [{**later(change), "is_deleted": True, "life_status": "invalid"}
                         for change in stage_changes[changes_emptied["_id"]]]],
                     source="crm", keys=record_keys("crm_opportunity_stage_changes"))
        land_records(con, "crm_opportunities", [[
            {**later(opportunity_tombstoned), "is_deleted": True, "life_status": "invalid"},
            {**later(reassigned), "owner": [reassigned_to]},
            # A new deal with no stage change yet: it reaches the opportunities mart through
            # int_opportunities_enriched alone.
            {**later(reassigned), "_id": NEW_DEAL_ID, "name": "new deal", "leads_id": None},
        ]], source="crm", keys=record_keys("crm_opportunities"))
        con.execute("insert into quality.quarantine_current values ('crm_opportunity_stage_changes', ?, 'orphan', 'error', "
                    "'test')", [stage_changes[change_quarantined["_id"]][-1]["_id"]])
        con.execute("delete from quality.quarantine_current where record_id in (?, ?)",
                    [opportunity_released["_id"], stage_changes[change_released["_id"]][-1]["_id"]])
        moved_rep = {**copy.deepcopy(rep), "mainDepartmentId": other_team["id"], "departmentIds": [other_team["id"]]}
        land_records(con, "crm_users", [[moved_rep]], source="crm", keys=record_keys("crm_users"))
        event = copy.deepcopy(events[0])
        event["id"] = "499999999"
        event["properties"] = {**event["properties"], "crm_lead_id": engaged["_id"], "event_type": "form_submit",
                               "occurred_at": "2026-10-30T08:00:00.000Z"}
        event["createdAt"] = event["updatedAt"] = "2026-10-30T08:00:00.000Z"
        land_records(con, "mkt_engagement_events", [[event]], source="marketing",
                     keys=record_keys("mkt_engagement_events"))
        con.execute("insert into quality.quarantine_current values ('crm_leads', ?, 'orphan', 'error', 'test')",
                    [quarantined["_id"]])
        con.execute("delete from quality.quarantine_current where record_id = ?", [released["_id"]])
        # Merge: `merged` joins the cluster; split: cluster_b leaves it.
        con.execute("insert into quality.identity_map values ('crm_leads', 'crm', ?, 'person:cluster')", [merged["_id"]])
        con.execute("delete from quality.identity_map where record_id = ?", [cluster_b["_id"]])
        con.execute("insert into quality.identity_map values ('crm_accounts', 'crm', ?, 'customer:cluster')",
                    [joining["_id"]])
        con.execute("delete from quality.identity_map where record_id = ?", [account_b["_id"]])
        land_records(con, "crm_accounts", [[{**later(account_tombstoned), "is_deleted": True, "life_status": "invalid"}]],
                     source="crm", keys=record_keys("crm_accounts"))
        con.execute("insert into quality.quarantine_current values ('crm_accounts', ?, 'orphan', 'error', 'test')",
                    [account_quarantined["_id"]])
        land_records(con, "erp_customers", [[{**copy.deepcopy(erp_edited), "credit_limit": 123456.0,
                                              "write_date": "2026-10-30 10:00:00"}]],
                     source="erp", keys=record_keys("erp_customers"))
    finally:
        con.close()
    _dbt(work, warehouse, "run")
    incremental = _contents(warehouse)
    compiled = (work / "target" / "run" / "sfa" / "models" / "intermediate" / "sales" / "int_leads_enriched.sql").read_text()
    compiled_first_stg_leads = (work / "target" / "compiled" / "sfa" / "models" / "staging" / "crm" / "stg_crm__leads.sql").read_text()
    postgres = None
    if mirror:
        try:
            mirror.run()
            con = duckdb.connect(str(warehouse), read_only=True)
            try:
                relations = built_columns(con, *SCHEMAS)
            finally:
                con.close()
            postgres = {"incremental": mirror.contents(relations), "relations": relations}
        finally:
            mirror.drop()
    _dbt(work, warehouse, "run", "--full-refresh")
    full = _contents(warehouse)
    full_warehouse = work / "full.duckdb"  # what the Postgres incremental run must equal
    shutil.copyfile(warehouse, full_warehouse)
    # The as-of date moves on: open deals' current spells (and every other date-dependent figure)
    # must follow. Lead and activity changes land with quarantine and identity map unchanged.
    con = duckdb.connect(str(warehouse))
    try:
        later_twice = lambda record: {**later(later(record))}  # noqa: E731
        land_records(con, "crm_leads", [[{**later_twice(late_tombstoned), "is_deleted": True, "life_status": "invalid"}]],
                     source="crm", keys=record_keys("crm_leads"))
        land_records(con, "crm_activities", [[
            {**later_twice(late_moved), "related_object_data": [{"describe_api_name": "LeadsObj", "id": new_target["_id"]}]},
            {**later_twice(late_emptied), "related_object_data": []},
        ]], source="crm", keys=record_keys("crm_activities"))
    finally:
        con.close()
    later_day = {"SFA_AS_OF_DATE": LATER_AS_OF_DATE}
    _dbt(work, warehouse, "run", env=later_day)
    incremental_later = _contents(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        removed_links_later = set(con.execute(
            "select activity_id, related_record_id from intermediate.int_crm__activity_links where is_removed").fetchall())
    finally:
        con.close()
    compiled_dir = work / "target" / "compiled" / "sfa" / "models"
    compiled_later = {model: (compiled_dir / path).read_text() for model, path in (
        ("stg_crm__leads", "staging/crm/stg_crm__leads.sql"),
        ("int_crm__activity_links", "intermediate/crm/int_crm__activity_links.sql"),
        ("int_leads_enriched", "intermediate/sales/int_leads_enriched.sql"))}
    _dbt(work, warehouse, "run", "--full-refresh", env=later_day)
    full_later = _contents(warehouse)
    return {"work": work, "warehouse": warehouse, "full_warehouse": full_warehouse, "incremental": incremental,
            "full": full,
            "incremental_later": incremental_later, "full_later": full_later,
            "removed_links_later": removed_links_later,
            "compiled": compiled, "compiled_later": compiled_later,
            "compiled_first_stg_leads": compiled_first_stg_leads, "postgres": postgres, "leads": {
                "owner_changed": owner_changed["_id"], "tombstoned": tombstoned["_id"], "quarantined": quarantined["_id"],
                "released": released["_id"], "merged": merged["_id"], "cluster_a": cluster_a["_id"],
                "cluster_b": cluster_b["_id"], "new_target": new_target["_id"], "moved_from": moved_from,
                "emptied_from": emptied_from, "deleted_from": deleted_from, "engaged": engaged["_id"],
                "converted": converted["leads_id"], "late_tombstoned": late_tombstoned["_id"],
                "late_moved": late_moved["_id"], "late_moved_from": late_moved_from,
                "late_emptied": late_emptied["_id"], "late_emptied_from": late_emptied_from},
            "new_owner": new_owner, "moved_rep": rep["openUserId"], "team": other_team["id"],
            "customers": {"account_a": account_a["_id"], "account_b": account_b["_id"], "joining": joining["_id"],
                          "tombstoned": account_tombstoned["_id"], "quarantined": account_quarantined["_id"],
                          "erp_edited": erp_edited["id"]},
            "opportunities": {
                "staged": staged["_id"], "tombstoned": opportunity_tombstoned["_id"], "reassigned": reassigned["_id"],
                "change_deleted": change_deleted["_id"], "change_quarantined": change_quarantined["_id"],
                "changes_emptied": changes_emptied["_id"], "change_edited": change_edited["_id"],
                "change_moved": change_moved["_id"], "change_released": change_released["_id"],
                "released": opportunity_released["_id"]},
            "new_change": new_change["_id"], "deleted_change": deleted_change["_id"],
            "quarantined_change": stage_changes[change_quarantined["_id"]][-1]["_id"], "reassigned_to": reassigned_to,
            "edited_change": stage_changes[change_edited["_id"]][0]["_id"],
            "moved_change": stage_changes[change_moved["_id"]][0]["_id"],
            "released_change": stage_changes[change_released["_id"]][-1]["_id"]}


@pytest.mark.parametrize("incremental_run, full_run", [("incremental", "full"), ("incremental_later", "full_later")])
def test_incremental_run_equals_full_refresh(changed_warehouse: dict, incremental_run: str, full_run: str) -> None:
    incremental, full = changed_warehouse[incremental_run], changed_warehouse[full_run]
    # The second run took the incremental path: a merge into the existing table, not a rebuild.
    assert "delete from" in changed_warehouse["compiled"]
    assert set(incremental) == set(full)
    assert len(full) > 60
    differing = {relation: [sum(full[relation].values()), sum(incremental[relation].values()),
                            list((full[relation] - incremental[relation]))[:2],
                            list((incremental[relation] - full[relation]))[:2]]
                 for relation in full if full[relation] != incremental[relation]}
    assert not differing, json.dumps(differing, indent=1, ensure_ascii=False, default=str)


def test_unchanged_fingerprints_skip_the_key_diffs(changed_warehouse: dict) -> None:
    """In the second run no lead or activity was quarantined or released and no identity moved:
    the lead and activity models found their changes from watermarks alone (the first run, with
    quarantine and identity changes, diffed every key)."""
    for model, sql in changed_warehouse["compiled_later"].items():
        assert "except" not in sql.lower(), model
    assert "except" in changed_warehouse["compiled_first_stg_leads"].lower()


def test_removed_links_point_the_lead_model_to_lost_follow_ups(changed_warehouse: dict) -> None:
    """In the second run (no activity quarantined or released) int_crm__activity_links kept the
    links the moved and the emptied activity lost as removed rows, and int_leads_enriched found the
    leads whose follow-ups changed from the links' refreshed_at instead of diffing every lead's
    follow-ups; the equality with a full refresh above shows the follow-ups came out right."""
    ids = changed_warehouse["leads"]
    removed = changed_warehouse["removed_links_later"]
    assert (ids["late_moved"], ids["late_moved_from"]) in removed
    assert (ids["late_emptied"], ids["late_emptied_from"]) in removed
    assert (ids["late_moved"], ids["new_target"]) not in removed
    enriched = changed_warehouse["compiled_later"]["int_leads_enriched"]
    assert "changed_links.refreshed_at" in enriched
    assert "built.activity_count" not in enriched


def test_each_change_reached_the_lead_models(changed_warehouse: dict) -> None:
    """The equality above would also hold if nothing had changed at all: check that each change is
    visible (in the state both builds agree on)."""
    ids = changed_warehouse["leads"]
    con = duckdb.connect(str(changed_warehouse["warehouse"]), read_only=True)
    try:
        enriched = "select {} from intermediate.int_leads_enriched where lead_id = ?"
        assert _one(con, enriched.format("owner_id"), [ids["owner_changed"]]) == changed_warehouse["new_owner"]
        assert _one(con, enriched.format("count(*)"), [ids["tombstoned"]]) == 0
        assert _one(con, enriched.format("count(*)"), [ids["quarantined"]]) == 0
        assert _one(con, enriched.format("count(*)"), [ids["released"]]) == 1
        assert _one(con, "select count(*) from marts.lead_scores where lead_id = ?", [ids["released"]]) == 1
        assert _one(con, enriched.format("person_id"), [ids["merged"]]) == "person:cluster"
        assert _one(con, enriched.format("person_id"), [ids["cluster_b"]]) == f"crm:{ids['cluster_b']}"
        assert _one(con, "select lead_count from intermediate.int_lead_people where person_id = 'person:cluster'",
                    []) == 2
        assert _one(con, "select count(*) from intermediate.int_crm__activity_links where related_record_id = ?",
                    [ids["new_target"]]) >= 1
        assert _one(con, "select engagement_events from marts.lead_scores where lead_id = ?", [ids["engaged"]]) >= 1
        # The second run's changes (taken on the fingerprint-guarded path).
        for model in ("intermediate.int_leads_enriched", "marts.lead_scores"):
            assert _one(con, f"select count(*) from {model} where lead_id = ?", [ids["late_tombstoned"]]) == 0, model
        links = "select count(*) from intermediate.int_crm__activity_links where activity_id = ? and related_record_id = ?"
        assert _one(con, links, [ids["late_moved"], ids["new_target"]]) == 1
        assert _one(con, links, [ids["late_moved"], ids["late_moved_from"]]) == 0
        assert _one(con, "select count(*) from intermediate.int_crm__activity_links where activity_id = ?",
                    [ids["late_emptied"]]) == 0
        teams = con.execute("select distinct team_id from intermediate.int_leads_enriched where owner_id = ?",
                            [changed_warehouse["moved_rep"]]).fetchall()
        assert teams == [(changed_warehouse["team"],)]
    finally:
        con.close()


def test_each_change_reached_the_customer_models(changed_warehouse: dict) -> None:
    """As above, for the key-incremental int_customers_unified: a cluster gained one account and
    lost another, another lost its quarantined account, an account was tombstoned, an ERP credit
    limit edited and the moved rep's customers follow the rep's new team."""
    ids = changed_warehouse["customers"]
    con = duckdb.connect(str(changed_warehouse["warehouse"]), read_only=True)
    try:
        unified = "select {} from intermediate.int_customers_unified where customer_id = ?"
        assert con.execute(unified.format("crm_account_count, erp_customer_count"),
                           ["customer:cluster"]).fetchone() == (2, 1)
        assert _one(con, unified.format("crm_account_count"), [f"crm:{ids['account_b']}"]) == 1
        assert _one(con, unified.format("crm_account_count"), ["customer:other"]) == 1
        for gone in ("joining", "tombstoned"):
            assert _one(con, unified.format("count(*)"), [f"crm:{ids[gone]}"]) == 0, gone
        assert float(_one(con, unified.format("credit_limit_cny"), [f"erp:{ids['erp_edited']}"])) == 123456.0
        team = _one(con, "select team_name from intermediate.int_crm__reps where user_id = ?",
                    [changed_warehouse["moved_rep"]])
        teams = con.execute("select distinct team_name from intermediate.int_customers_unified where owner_id = ?",
                            [changed_warehouse["moved_rep"]]).fetchall()
        assert teams == [(team,)]
    finally:
        con.close()


def test_each_change_reached_the_opportunity_models(changed_warehouse: dict) -> None:
    ids = changed_warehouse["opportunities"]
    con = duckdb.connect(str(changed_warehouse["warehouse"]), read_only=True)
    try:
        enriched = "select {} from intermediate.int_opportunities_enriched where opportunity_id = ?"
        spells = "select {} from intermediate.int_opportunity_stage_spells where opportunity_id = ?"
        assert _one(con, enriched.format("count(*)"), [ids["tombstoned"]]) == 0
        assert _one(con, spells.format("count(*)"), [ids["tombstoned"]]) == 0
        assert _one(con, enriched.format("owner_id"), [ids["reassigned"]]) == changed_warehouse["reassigned_to"]
        assert _one(con, spells.format("min(owner_id)"), [ids["reassigned"]]) == changed_warehouse["reassigned_to"]
        assert _one(con, spells.format("stage_change_id"), [ids["staged"]] ) is not None
        assert _one(con, spells.format("stage_change_id") + " and is_current_stage", [ids["staged"]]) \
            == changed_warehouse["new_change"]
        for gone in ("deleted_change", "quarantined_change"):
            assert _one(con, "select count(*) from intermediate.int_opportunity_stage_spells where stage_change_id = ?",
                        [changed_warehouse[gone]]) == 0
        assert _one(con, spells.format("count(*)"), [ids["change_deleted"]]) >= 1
        assert _one(con, spells.format("count(*)"), [ids["changes_emptied"]]) == 0
        assert _one(con, "select stage_change_count from marts.opportunities where opportunity_id = ?",
                    [ids["changes_emptied"]]) == 0
        assert _one(con, "select stage_change_count from marts.opportunities where opportunity_id = ?",
                    [NEW_DEAL_ID]) == 0
        assert _one(con, spells.format("count(*)"), [ids["released"]]) >= 1
        change = "select {} from intermediate.int_opportunity_stage_spells where stage_change_id = ?"
        assert _one(con, change.format("amount_at_change"), [changed_warehouse["edited_change"]]) == 4321
        assert _one(con, change.format("opportunity_id"), [changed_warehouse["moved_change"]]) \
            == ids["change_edited"]
        assert _one(con, change.format("count(*)"), [changed_warehouse["released_change"]]) == 1
        teams = con.execute("select distinct team_id from intermediate.int_opportunities_enriched where owner_id = ?",
                            [changed_warehouse["moved_rep"]]).fetchall()
        assert teams == [(changed_warehouse["team"],)]
    finally:
        con.close()
    # The later as-of date reached the open deals' current spells.
    later, now = changed_warehouse["full_later"], changed_warehouse["full"]
    assert later["intermediate.int_opportunity_stage_spells"] != now["intermediate.int_opportunity_stage_spells"]


@pytest.mark.postgres
def test_postgres_incremental_run_equals_duckdb_full_refresh(changed_warehouse: dict, postgres_dsn: str) -> None:
    postgres = changed_warehouse["postgres"]
    assert postgres is not None, "Postgres answered the session check but not this module's connection"
    # JSON kept as text (`*_json`) is spelled differently by each engine (jsonb orders keys); every
    # other column must match.
    comparable = {relation: [i for i, column in enumerate(columns) if not column.endswith("_json")]
                  for relation, columns in postgres["relations"].items()}
    con = duckdb.connect(str(changed_warehouse["full_warehouse"]), read_only=True)
    try:
        duck = {relation: comparable_rows(con.execute(current_rows_sql(relation, columns)).fetchall())
                for relation, columns in postgres["relations"].items()}
    finally:
        con.close()

    def kept(relation: str, rows: list[tuple]) -> list[tuple]:
        return sorted((tuple(row[i] for i in comparable[relation]) for row in rows),
                      key=lambda row: tuple((v is None, str(v)) for v in row))

    differing = {relation: [len(duck[relation]), len(rows)] for relation, rows in postgres["incremental"].items()
                 if kept(relation, rows) != kept(relation, duck[relation])}
    assert len(duck) > 60
    assert not differing, json.dumps(differing)
