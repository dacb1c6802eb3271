"""Key-incremental staging, intermediate and mart models equal a full refresh.

The models in `macros/incremental_keys.sql`'s pattern (stg tables with a canonical id, activity
links, enriched leads, lead people, lead scores) recompute only the keys whose inputs changed. A
small World is built, then every kind of change that can reach them without touching most rows
lands at once: an owner change, a tombstone, a lead newly quarantined and one released from
quarantine with no new version, identity clusters merged and split, an activity moved to another
lead, one emptied and one deleted, a converted opportunity's amount, a rep moved to another team and
a new engagement event. The incremental `dbt run` must then equal `dbt run --full-refresh` for every
relation in staging, intermediate and marts, row for row. When the local Postgres answers, the same
two runs happen there too (raw and quality copied over before each) and the incremental Postgres
build must equal the DuckDB full refresh.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
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
    drop_postgres,
    land_with_empty_quality,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_BIN = Path(sys.executable).with_name("dbt")
DAY_MS = 86_400_000
SCHEMAS = ("staging", "intermediate", "marts")


def _dbt(work: Path, warehouse: Path, command: str, *args: str, env: dict | None = None) -> None:
    cmd = [str(DBT_BIN), command, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
           str(DBT_PROJECT_DIR), "--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    env = {**os.environ, "SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb", "SFA_AS_OF_DATE": "2026-10-31",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:]


def _value(v: object) -> object:
    # Sums of floats come out in a thread-dependent order: compare them to 9 significant digits.
    return float(f"{v:.9g}") if isinstance(v, float) else v


def _contents(warehouse: Path) -> dict[str, Counter]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {relation: Counter(repr(tuple(_value(v) for v in row))
                                  for row in con.execute(f"select {', '.join(columns)} from {relation}").fetchall())
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
                cur.execute(f"select {', '.join(columns)} from {self.prefix}{relation}")
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
    rep = next(u for u in users if u["openUserId"] == owner_changed["owner"][0])
    other_team = next(d for d in departments if d["parentId"] not in (0, None) and d["id"] != rep.get("mainDepartmentId")
                      and d["parentId"] != 999999)

    con = duckdb.connect(str(warehouse))
    try:
        land_with_empty_quality(con, world, page_size=200)
        con.execute("insert into quality.quarantine_current values ('crm_leads', ?, 'orphan', 'error', 'test')",
                    [released["_id"]])
        con.executemany("insert into quality.identity_map values ('crm_leads', 'crm', ?, 'person:cluster')",
                        [[cluster_a["_id"]], [cluster_b["_id"]]])
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
    finally:
        con.close()
    _dbt(work, warehouse, "run")
    incremental = _contents(warehouse)
    compiled = (work / "target" / "run" / "sfa" / "models" / "intermediate" / "sales" / "int_leads_enriched.sql").read_text()
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
    return {"work": work, "warehouse": warehouse, "incremental": incremental, "full": _contents(warehouse),
            "compiled": compiled, "postgres": postgres, "leads": {
                "owner_changed": owner_changed["_id"], "tombstoned": tombstoned["_id"], "quarantined": quarantined["_id"],
                "released": released["_id"], "merged": merged["_id"], "cluster_a": cluster_a["_id"],
                "cluster_b": cluster_b["_id"], "new_target": new_target["_id"], "moved_from": moved_from,
                "emptied_from": emptied_from, "deleted_from": deleted_from, "engaged": engaged["_id"],
                "converted": converted["leads_id"]},
            "new_owner": new_owner, "moved_rep": rep["openUserId"], "team": other_team["id"]}


def test_incremental_run_equals_full_refresh(changed_warehouse: dict) -> None:
    incremental, full = changed_warehouse["incremental"], changed_warehouse["full"]
    # The second run took the incremental path: a merge into the existing table, not a rebuild.
    assert "delete from" in changed_warehouse["compiled"]
    assert set(incremental) == set(full)
    assert len(full) > 60
    differing = {relation: [sum(full[relation].values()), sum(incremental[relation].values()),
                            list((full[relation] - incremental[relation]))[:2],
                            list((incremental[relation] - full[relation]))[:2]]
                 for relation in full if full[relation] != incremental[relation]}
    assert not differing, json.dumps(differing, indent=1, ensure_ascii=False, default=str)


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
        teams = con.execute("select distinct team_id from intermediate.int_leads_enriched where owner_id = ?",
                            [changed_warehouse["moved_rep"]]).fetchall()
        assert teams == [(changed_warehouse["team"],)]
    finally:
        con.close()


@pytest.mark.postgres
def test_postgres_incremental_run_equals_duckdb_full_refresh(changed_warehouse: dict, postgres_dsn: str) -> None:
    postgres = changed_warehouse["postgres"]
    assert postgres is not None, "Postgres answered the session check but not this module's connection"
    # JSON kept as text (`*_json`) is spelled differently by each engine (jsonb orders keys); every
    # other column must match.
    comparable = {relation: [i for i, column in enumerate(columns) if not column.endswith("_json")]
                  for relation, columns in postgres["relations"].items()}
    con = duckdb.connect(str(changed_warehouse["warehouse"]), read_only=True)
    try:
        duck = {relation: comparable_rows(con.execute(f"select {', '.join(columns)} from {relation}").fetchall())
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
