"""dbt-postgres builds the same marts as dbt-duckdb from the same raw and quality rows, row for row."""

from __future__ import annotations

import duckdb
import pytest

from tests.dbt.conftest import built_columns, comparable_rows

pytestmark = pytest.mark.postgres


def test_every_mart_matches_duckdb(duckdb_con: duckdb.DuckDBPyConnection, postgres_build: dict) -> None:
    marts = built_columns(duckdb_con, "marts")
    assert "marts.lead_funnel_by_channel" in marts and "marts.won_revenue_by_month" in marts
    pg, prefix = postgres_build["pg"], postgres_build["prefix"]
    mismatched = []
    for table, columns in marts.items():
        select = ", ".join(columns)
        duck = comparable_rows(duckdb_con.execute(f"select {select} from {table}").fetchall())
        with pg.cursor() as cur:
            cur.execute(f"select {select} from {prefix}{table}")
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
