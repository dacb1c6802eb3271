"""dbt-postgres builds the same marts as dbt-duckdb from the same raw and quality rows, row for row."""

from __future__ import annotations

import duckdb
import pytest

from tests.dbt.conftest import comparable_rows

pytestmark = pytest.mark.postgres


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
    ).fetchall()]


def test_every_mart_matches_duckdb(duckdb_con: duckdb.DuckDBPyConnection, postgres_build: dict) -> None:
    marts = _mart_tables(duckdb_con)
    assert "lead_funnel_by_channel" in marts and "won_revenue_by_month" in marts
    pg, prefix = postgres_build["pg"], postgres_build["prefix"]
    mismatched = []
    for table in marts:
        columns = [r[0] for r in duckdb_con.execute(
            "select column_name from information_schema.columns where table_schema = 'marts' and table_name = ? "
            # refreshed_at: when the row was built, which differs between the two builds by design.
            "and column_name <> 'refreshed_at' order by ordinal_position", [table]
        ).fetchall()]
        select = ", ".join(columns)
        duck = comparable_rows(duckdb_con.execute(f"select {select} from marts.{table}").fetchall())
        with pg.cursor() as cur:
            cur.execute(f"select {select} from {prefix}marts.{table}")
            post = comparable_rows(cur.fetchall())
        if duck != post:
            diff = next((i for i, (a, b) in enumerate(zip(duck, post)) if a != b), min(len(duck), len(post)))
            mismatched.append(f"{table}: {len(duck)} vs {len(post)} rows; first difference at sorted row {diff}: "
                              f"{duck[diff] if diff < len(duck) else None} != {post[diff] if diff < len(post) else None}")
    assert not mismatched, "\n".join(mismatched)


def test_postgres_reproduces_truth_figures(postgres_build: dict, duckdb_build: dict) -> None:
    figures = duckdb_build["truth"]["figures"]
    pg, prefix = postgres_build["pg"], postgres_build["prefix"]
    with pg.cursor() as cur:
        cur.execute(f"select close_month, won_revenue_cny from {prefix}marts.won_revenue_by_month")
        assert {m: f"{a:.2f}" for m, a in cur.fetchall()} == figures["won_revenue_by_month"]
        cur.execute(f"select distinct_people, won_deals, lost_deals, win_rate from {prefix}marts.sales_kpi_summary")
        people, won, lost, rate = cur.fetchone()
    assert (people, won, lost, f"{rate:.4f}") == (figures["distinct_people"], figures["won"], figures["lost"],
                                                   figures["win_rate"])
