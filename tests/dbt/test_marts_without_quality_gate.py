"""The marts stay consistent when the quality gate lets through a closed deal with no close date.

With the quality tables empty (gate not run, or `close_date_required` downgraded to a warning), a
won opportunity the CRM gives no `close_date` used to reach the marts with a null close month:
`won_revenue_by_month` got a null key, and its total no longer matched won revenue by rep, by team,
in the summary and in `opportunities`. Such a deal now closes on the (Asia/Shanghai) day it entered
its closing stage. A small World is landed with empty quality tables, the close date is removed from
every version of two won deals, one of which also loses its stage-change time (it then closes on
the day it was last modified), and `dbt build` (models and every dbt test) must pass.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import duckdb
import pytest

from extractors.sandbox.world import World
from tests.dbt.conftest import land_with_empty_quality, run_dbt

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local_day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI).date()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, dict[str, date]]]:
    work = tmp_path_factory.mktemp("no_quality_gate")
    warehouse = work / "sfa.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        land_with_empty_quality(con, World(seed=11, scale=0.03), page_size=500)
        won = con.execute("""
            select _record_id from raw.crm_opportunities
            where not _deleted
            group by _record_id
            having bool_and(_record->>'sales_status' = 'won' and _record->>'close_date' is not null
                            and _record->>'stg_changed_time' is not null)
            order by _record_id limit 2""").fetchall()
        assert len(won) == 2, "the World has fewer than two won opportunities to strip"
        expected = {}
        for position, (record_id,) in enumerate(won):
            versions = con.execute("select rowid, _record from raw.crm_opportunities where _record_id = ?",
                                   [record_id]).fetchall()
            for rowid, text in versions:
                record = json.loads(text)
                del record["close_date"]
                if position == 1:
                    del record["stg_changed_time"]
                con.execute("update raw.crm_opportunities set _record = ? where rowid = ?", [json.dumps(record), rowid])
            # The current version is the one with the highest cursor: its times decide the day.
            latest = json.loads(con.execute(
                "select _record from raw.crm_opportunities where _record_id = ? order by _cursor desc limit 1",
                [record_id]).fetchone()[0])
            expected[record_id] = _local_day(latest["last_modified_time"] if position == 1 else latest["stg_changed_time"])
    finally:
        con.close()

    run_dbt(["build"], {"SFA_WAREHOUSE": str(warehouse), "SFA_DBT_TARGET": "duckdb", "SFA_AS_OF_DATE": "2026-10-31"},
            work)
    con = duckdb.connect(str(warehouse), read_only=True)
    yield con, expected
    con.close()


def test_closed_deal_without_close_date_closes_on_its_stage_day(built) -> None:
    con, expected = built
    rows = con.execute("""
        select opportunity_id, close_date, crm_close_date, close_month
        from marts.opportunities where opportunity_id in (?, ?)""", list(expected)).fetchall()
    assert {r[0]: (r[1], r[2], r[3]) for r in rows} == {
        record_id: (day, None, day.replace(day=1)) for record_id, day in expected.items()}


def test_every_won_deal_lands_in_a_month(built) -> None:
    con, _ = built
    assert con.execute("select count(*) from marts.won_revenue_by_month where close_month is null").fetchone()[0] == 0
    by_month, won_deals = con.execute("select sum(won_revenue_cny), sum(won_deals) from marts.won_revenue_by_month").fetchone()
    total, deals = con.execute("select sum(amount_cny), count(*) from marts.opportunities where is_won").fetchone()
    assert (by_month, won_deals) == (total, deals)


def test_fill_rate_counts_the_missing_crm_close_date(built) -> None:
    """The fallback date must not hide the gap from the rep's data-quality score."""
    con, expected = built
    owner = con.execute("select owner_id from marts.opportunities where opportunity_id = ?", [next(iter(expected))]).fetchone()[0]
    filled = {}
    for close_column in ("crm_close_date", "close_date"):
        filled[close_column] = con.execute(f"""
            select sum(filled) from (
                select (company is not null)::int + (coalesce(mobile, tel, email) is not null)::int
                       + (industry is not null)::int + (job_title is not null)::int as filled
                from staging.stg_crm__leads where not is_deleted and owner_id = $owner
                union all
                select (coalesce(mobile, tel, email) is not null)::int + (job_title is not null)::int
                       + (contact_role is not null)::int + (stance is not null)::int
                from staging.stg_crm__contacts where not is_deleted and owner_id = $owner
                union all
                select (amount is not null)::int + ({close_column} is not null)::int
                       + (forecast_category is not null)::int + (product_line is not null)::int
                from marts.opportunities where owner_id = $owner
            )""", {"owner": owner}).fetchone()[0]
    leads, contacts, opportunities, fill_rate = con.execute(
        "select leads, contacts, opportunities, fill_rate from marts.rep_data_quality where owner_id = ?", [owner]).fetchone()
    checked = 4 * (leads + contacts + opportunities)
    assert filled["crm_close_date"] < filled["close_date"]
    assert float(fill_rate) == round(filled["crm_close_date"] / checked, 4)
