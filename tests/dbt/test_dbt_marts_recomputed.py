"""Marts without a truth figure, recomputed in plain Python straight from the raw JSON."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import duckdb

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _current_records(con: duckdb.DuckDBPyConnection, stream: str) -> dict[str, dict]:
    """Latest version per id (highest cursor, then latest extraction), tombstones and quarantine out."""
    rows = con.execute(
        f"""select _record_id, _cursor, _extracted_at, _batch_id, _deleted, _record from raw.{stream}
            where _record_id not in (select record_id from quality.quarantine_current where stream = ?)""",
        [stream],
    ).fetchall()
    latest: dict[str, tuple] = {}
    for row in rows:
        key = (row[1] or "", row[2], row[3])
        if row[0] not in latest or key > latest[row[0]][0]:
            latest[row[0]] = (key, row[4], row[5])
    return {rid: json.loads(rec) for rid, (_, deleted, rec) in latest.items() if not deleted}


def _local(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, SHANGHAI).replace(tzinfo=None)


def test_first_follow_up_is_earliest_activity_naming_the_lead(duckdb_con: duckdb.DuckDBPyConnection) -> None:
    first: dict[str, dt.datetime] = {}
    for activity in _current_records(duckdb_con, "crm_activities").values():
        at = _local(activity.get("activity_time__c") or activity["create_time"])
        for related in activity.get("related_object_data") or []:
            if related.get("describe_api_name") == "LeadsObj":
                first[related["id"]] = min(at, first.get(related["id"], at))
    mart = dict(duckdb_con.execute("select lead_id, first_follow_up_at from marts.lead_sla").fetchall())
    expected = {lead_id: first.get(lead_id) for lead_id in mart}
    assert sum(v is not None for v in expected.values()) > len(mart) // 2
    assert mart == expected


def test_open_pipeline_by_team_month(duckdb_con: duckdb.DuckDBPyConnection, duckdb_build: dict) -> None:
    rates = {c: Decimal(r) for c, r in duckdb_build["truth"]["figures"]["fx_rates_to_cny"].items()}
    users = _current_records(duckdb_con, "crm_users")
    team_of = {u["openUserId"]: u.get("mainDepartmentId") for u in users.values()}
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    for opp in _current_records(duckdb_con, "crm_opportunities").values():
        if opp.get("sales_status") != "in_progress" or "close_date" not in opp:
            continue
        cny = (Decimal(opp["amount"]) * rates[opp["mc_currency"]]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        month = _local(opp["close_date"]).date().replace(day=1)
        expected[(team_of.get((opp.get("owner") or [None])[0]), month)] += cny
    got = {
        (team, month): amount
        for team, month, amount in duckdb_con.execute(
            "select team_id, period_month, open_pipeline_due_cny from marts.pipeline_kpis_by_team "
            "where open_pipeline_due_cny <> 0"
        ).fetchall()
    }
    assert got and got == {k: v for k, v in expected.items() if v}
