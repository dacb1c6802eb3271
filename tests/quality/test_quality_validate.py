"""Rules over hand-made raw tables: each check, quarantine life cycle, accounting, results."""

from __future__ import annotations

import pytest

from quality.run import validate_stream, validate_streams
from quality.schema import load_ruleset, load_rulesets

CONTRACT_TABLES = {
    "crm_departments", "crm_users", "crm_accounts", "crm_contacts", "crm_leads", "crm_opportunities",
    "crm_opportunity_stage_changes", "crm_activities", "crm_quotas", "crm_forecast_submissions",
    "mkt_campaigns", "mkt_campaign_daily_metrics", "mkt_form_submissions", "mkt_engagement_events",
    "erp_customers", "erp_products", "erp_sales_orders", "erp_sales_order_lines", "erp_invoices", "erp_payments",
}
DAY = 86_400_000
T0 = 1_760_000_000_000  # 2025-10-09


def account(i: str, **extra) -> dict:
    return {"_id": i, "name": f"Account {i}", "owner": ["u1"], "create_time": T0, "last_modified_time": T0,
            "is_deleted": False, "life_status": "normal", **extra}


def opportunity(i: str, mtime: int = T0, **extra) -> dict:
    rec = {"_id": i, "name": f"Deal {i}", "owner": ["u1"], "account_id": "a1", "amount": "100.00",
           "mc_currency": "CNY", "sales_stage": "proposal", "sales_status": "in_progress",
           "close_date": T0 + 30 * DAY, "create_time": T0, "last_modified_time": mtime,
           "is_deleted": False, "life_status": "normal"}
    rec.update(extra)
    return {k: v for k, v in rec.items() if v is not None}


def quarantined(con, stream: str) -> dict[str, set[str]]:
    rows = con.execute(
        "select record_id, rule from quality.quarantine_current where stream = ?", [stream]
    ).fetchall()
    out: dict[str, set[str]] = {}
    for record_id, rule in rows:
        out.setdefault(record_id, set()).add(rule)
    return out


def test_every_contract_table_has_a_valid_rule_file():
    rulesets = load_rulesets()
    assert set(rulesets) == CONTRACT_TABLES
    for rs in rulesets.values():
        checks = {r.check for r in rs.rules}
        assert "unique_version" in checks, rs.stream
        assert any(r.severity == "error" for r in rs.rules), rs.stream


def test_a_bad_rule_file_is_a_clear_error(tmp_path):
    path = tmp_path / "crm_leads.yml"
    path.write_text(
        "stream: crm_leads\nsource: crm\nfields: {name: {path: $.name}}\n"
        "rules:\n  - {name: x, check: required, fields: [nmae]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"(?s)crm_leads\.yml.*undeclared fields \['nmae'\]"):
        load_ruleset(path)
    path.write_text("stream: crm_leads\nsource: crm\nfields: {}\nrules:\n  - {name: x, check: nonsense}\n")
    with pytest.raises(ValueError, match="crm_leads.yml"):
        load_ruleset(path)


def test_opportunity_rules_catch_each_defect_with_a_reason(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    lander("crm_opportunities", [
        opportunity("ok"),
        opportunity("no_owner", owner=[]),
        opportunity("no_close", close_date=None),
        opportunity("negative", amount="-5.00"),
        opportunity("not_a_number", amount="lots"),
        opportunity("bad_stage", sales_stage="closing"),
        opportunity("bad_currency", mc_currency="JPY"),
        opportunity("orphan", account_id="nowhere"),
        opportunity("closed_before_created", close_date=T0 - 3 * DAY),
        opportunity("same_day_close", close_date=T0 - (T0 + 8 * 3_600_000) % DAY),  # midnight of create day
    ])
    result = validate_stream(warehouse, "crm_opportunities", great_expectations=False)
    q = quarantined(warehouse, "crm_opportunities")
    assert q == {
        "no_owner": {"owner_required"},
        "no_close": {"close_date_required"},
        "negative": {"amount_non_negative"},
        "not_a_number": {"amount_non_negative"},
        "bad_stage": {"sales_stage_valid"},
        "bad_currency": {"currency_known"},
        "orphan": {"account_exists"},
        "closed_before_created": {"close_after_create"},
    }
    assert result.current_rows == 10 and result.error_rows == 8
    reasons = dict(warehouse.execute(
        "select record_id, reason from quality.quarantine_current where stream = 'crm_opportunities'"
    ).fetchall())
    assert reasons["orphan"] == "account_id = nowhere not found in crm_accounts"
    assert reasons["negative"] == "amount = -5.00 outside [0, inf]"
    assert reasons["not_a_number"] == "amount = lots is not a number"
    assert reasons["bad_currency"] == "currency = JPY not in [CNY, USD, EUR, HKD]"
    assert reasons["no_owner"] == "missing: owner"


def test_lead_needs_a_name_and_email_or_phone(warehouse, lander):
    base = {"last_modified_time": T0, "create_time": T0, "is_deleted": False, "source": "ads"}
    lander("crm_leads", [
        {"_id": "l1", "name": "张三", "mobile": "13812345678", **base},
        {"_id": "l2", "name": "李四", "email": "li@x.cn", **base},
        {"_id": "l3", "name": "王五", "tel": "+65 12345678", **base},
        {"_id": "l4", "mobile": "13812345679", **base},
        {"_id": "l5", "name": "赵六", "email": "", **base},
        {"_id": "l6", "name": "钱七", "email": "q@x.cn", **{**base, "source": "tv"}},
    ])
    validate_stream(warehouse, "crm_leads", great_expectations=False)
    assert quarantined(warehouse, "crm_leads") == {
        "l4": {"name_required"},
        "l5": {"email_or_phone_required"},
        "l6": {"source_channel_valid"},
    }


def test_erp_references_compound_uniqueness_and_payment_invoice_lists(warehouse, lander):
    wd = "2026-01-05 10:00:00"
    lander("erp_customers", [{"id": 1, "name": "A 有限公司", "active": True, "write_date": wd}])
    lander("erp_invoices", [
        {"id": 10, "name": "INV/2026/00001", "partner_id": [1, "A"], "amount_total": 10.0, "amount_residual": 0.0,
         "currency_id": [1, "CNY"], "state": "posted", "payment_state": "paid", "write_date": wd},
        {"id": 11, "name": "INV/2026/00001", "partner_id": [1, "A"], "amount_total": 10.0, "amount_residual": 0.0,
         "currency_id": [1, "CNY"], "state": "posted", "payment_state": "paid", "write_date": "2026-01-04 10:00:00"},
    ])
    lander("erp_payments", [
        {"id": 20, "partner_id": [1, "A"], "amount": 10.0, "date": "2026-01-06", "currency_id": [1, "CNY"],
         "payment_type": "inbound", "reconciled_invoice_ids": [10], "state": "posted", "write_date": wd},
        {"id": 21, "partner_id": [9, "Ghost"], "amount": 10.0, "date": "2026-01-06", "currency_id": [1, "CNY"],
         "payment_type": "inbound", "reconciled_invoice_ids": [10, 99], "state": "posted", "write_date": wd},
        {"id": 22, "partner_id": False, "amount": 5.0, "date": "2026-01-06", "currency_id": [1, "CNY"],
         "payment_type": "inbound", "reconciled_invoice_ids": [], "state": "posted", "write_date": wd},
    ])
    validate_streams(warehouse, ["erp_invoices", "erp_payments"], great_expectations=False)
    # the older of two invoices with one number fails; the survivor is the most recently written
    assert quarantined(warehouse, "erp_invoices") == {"11": {"invoice_name_unique"}}
    assert quarantined(warehouse, "erp_payments") == {
        "21": {"customer_exists", "invoices_exist"},
        "22": {"customer_required"},
    }
    reason = warehouse.execute(
        "select reason from quality.quarantine_current where record_id = '21' and rule = 'invoices_exist'"
    ).fetchone()[0]
    assert reason == "invoice_ids [99] not found in erp_invoices"


def test_a_fixed_row_leaves_quarantine_on_its_next_extraction(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    b1 = lander("crm_opportunities", [opportunity("o1"), opportunity("o2", amount="-1.00")])
    validate_stream(warehouse, "crm_opportunities", run_id="run-1", great_expectations=False)
    assert quarantined(warehouse, "crm_opportunities") == {"o2": {"amount_non_negative"}}

    # the source fixes o2: a newer version arrives in the next batch
    b2 = lander("crm_opportunities", [opportunity("o2", mtime=T0 + DAY, amount="1.00")])
    validate_stream(warehouse, "crm_opportunities", run_id="run-2", great_expectations=False)
    assert quarantined(warehouse, "crm_opportunities") == {}
    entry = warehouse.execute(
        "select batch_id, first_seen_run, last_seen_run, resolved, resolved_run, resolution, record->>'amount' "
        "from quality.quarantine where record_id = 'o2'"
    ).fetchall()
    assert entry == [(b1, "run-1", "run-1", True, "run-2", "superseded", "-1.00")]
    accounting = dict(
        ((b, (i, p, q)) for b, i, p, q in warehouse.execute(
            "select batch_id, rows_in, rows_passed, rows_quarantined from quality.batch_accounting "
            "where stream = 'crm_opportunities'").fetchall())
    )
    # the bad version stays counted as quarantined in the batch it came with
    assert accounting == {b1: (2, 1, 1), b2: (1, 1, 0)}


def test_an_orphan_leaves_quarantine_when_its_parent_lands(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    lander("crm_opportunities", [opportunity("o1", account_id="a2")])
    validate_stream(warehouse, "crm_opportunities", run_id="r1", great_expectations=False)
    assert quarantined(warehouse, "crm_opportunities") == {"o1": {"account_exists"}}
    lander("crm_accounts", [account("a2")])
    validate_stream(warehouse, "crm_opportunities", run_id="r2", great_expectations=False)
    assert quarantined(warehouse, "crm_opportunities") == {}
    assert warehouse.execute(
        "select resolution, resolved_run from quality.quarantine where record_id = 'o1'"
    ).fetchall() == [("passed", "r2")]


def test_tombstones_are_not_judged(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    b1 = lander("crm_opportunities", [opportunity("o1", amount="-1.00")])
    b2 = lander("crm_opportunities", [opportunity("o1", mtime=T0 + DAY, amount="-1.00", is_deleted=True)])
    result = validate_stream(warehouse, "crm_opportunities", great_expectations=False)
    assert result.current_rows == 0 and quarantined(warehouse, "crm_opportunities") == {}
    rows = warehouse.execute(
        "select batch_id, rows_in, rows_passed, rows_quarantined from quality.batch_accounting order by batch_id"
    ).fetchall()
    assert sorted(rows) == sorted([(b1, 1, 0, 1), (b2, 1, 1, 0)])


def test_repeats_and_conflicting_versions(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    same = opportunity("o1")
    lander("crm_opportunities", [same, same, opportunity("o2"), opportunity("o2", amount="200.00")])
    result = validate_stream(warehouse, "crm_opportunities", great_expectations=False)
    assert quarantined(warehouse, "crm_opportunities") == {"o2": {"unique_opportunity_id"}}
    warns = warehouse.execute(
        "select record_id, reason from quality.quarantine where severity = 'warn' and not resolved"
    ).fetchall()
    assert warns == [("o1", "served 2 times: o1")]
    assert result.current_rows == 2
    rows_in, passed, held = warehouse.execute(
        "select rows_in, rows_passed, rows_quarantined from quality.batch_accounting where stream = 'crm_opportunities'"
    ).fetchone()
    assert (rows_in, passed + held) == (4, 4) and held == 1  # only the current (ambiguous) o2 row


def test_rule_results_keep_one_row_per_run_and_rule(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    lander("crm_opportunities", [opportunity("o1"), opportunity("o2", amount="-1.00"), opportunity("o3")])
    validate_stream(warehouse, "crm_opportunities", run_id="r1", great_expectations=False)
    validate_stream(warehouse, "crm_opportunities", run_id="r2", great_expectations=False)
    n_rules = len(load_rulesets()["crm_opportunities"].rules)
    counts = warehouse.execute(
        "select run_id, count(*), sum(failed), max(evaluated) from quality.rule_results "
        "where stream = 'crm_opportunities' group by 1 order by 1"
    ).fetchall()
    assert counts == [("r1", n_rules, 1, 3), ("r2", n_rules, 1, 3)]
    percent = warehouse.execute(
        "select percent from quality.rule_results where run_id = 'r2' and rule = 'amount_non_negative'"
    ).fetchone()[0]
    assert percent == pytest.approx(33.3333, abs=1e-3)


def test_rule_files_declare_only_fields_their_rules_read():
    """Every declared field is parsed out of JSON for every row: unused ones cost time."""
    for rs in load_rulesets().values():
        used = {f for rule in rs.rules for f in rule.fields_used()}
        assert set(rs.fields) == used, (rs.stream, set(rs.fields) - used)


def test_a_stream_blocks_only_when_many_rows_fail(warehouse, lander):
    lander("crm_accounts", [account("a1")])
    # 1 bad row of 5: 20 % but a single row -> quarantined, not blocking
    lander("crm_opportunities", [opportunity(f"o{i}") for i in range(4)] + [opportunity("bad", amount="-1")])
    result = validate_stream(warehouse, "crm_opportunities", great_expectations=False)
    assert (result.error_rows, result.blocks) == (1, False)
    # 12 bad rows of 17: a broken extraction -> blocks
    lander("crm_opportunities", [opportunity(f"x{i}", amount="-1") for i in range(11)])
    result = validate_stream(warehouse, "crm_opportunities", great_expectations=False)
    assert (result.error_rows, result.current_rows, result.blocks) == (12, 16, True)
    assert result.metadata()["failed_by_rule"] == {"amount_non_negative": 12}
    # a tiny table that is wholly broken blocks too
    lander("crm_departments", [{"id": 1, "parentId": 999999}, {"id": 2, "parentId": 999999}])
    assert validate_stream(warehouse, "crm_departments", great_expectations=False).blocks
