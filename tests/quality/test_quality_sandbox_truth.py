"""The quality layer against the sandbox's truth manifest (World seed 7, scale 0.2).

Defect kinds that are the quality layer's job: missing_required, invalid_value and orphan
(error rules, quarantined), duplicate_id (the source serving an id twice: reported by the
`served_once` warn rule, one copy kept) and identity_duplicate (the identity map). Deletes
and late updates are the extractor's and the current state's job: checked here only in that
tombstones are never judged.
"""

from __future__ import annotations

import itertools

import pytest

pytestmark = pytest.mark.xdist_group(name="quality_sandbox")

ERROR_KINDS = ("missing_required", "invalid_value", "orphan")


def current_quarantine(con) -> set[tuple[str, str]]:
    return set(con.execute("select stream, record_id from quality.quarantine_current").fetchall())


def injected(truth: dict, kinds) -> set[tuple[str, str]]:
    return {(t, str(i)) for k in kinds for t, ids in truth["defects"].get(k, {}).items() for i in ids}


@pytest.mark.parametrize("kind", ERROR_KINDS)
def test_every_injected_error_defect_is_quarantined(sandbox_run, kind):
    ids = injected(sandbox_run.truth, [kind])
    caught = ids & current_quarantine(sandbox_run.con)
    assert caught == ids, f"{kind}: missed {sorted(ids - caught)[:10]}"


def test_the_sandbox_injects_every_error_kind_we_check(sandbox_run):
    """Guard against a vacuous recall: at this scale each kind the sandbox knows is present."""
    defects = sandbox_run.truth["defects"]
    for kind in (*ERROR_KINDS, "duplicate_id", "identity_duplicate"):
        assert sum(len(v) for v in defects[kind].values()) > 0, kind


def test_clean_rows_are_not_quarantined(sandbox_run):
    """Precision: of everything quarantined, at least 99.9% was broken on purpose."""
    held = current_quarantine(sandbox_run.con)
    wrong = held - injected(sandbox_run.truth, ERROR_KINDS)
    assert held, "nothing quarantined at all"
    assert 1 - len(wrong) / len(held) >= 0.999, sorted(wrong)[:10]


def test_duplicate_ids_are_reported_and_kept_once(sandbox_run):
    con, truth = sandbox_run.con, sandbox_run.truth
    for stream, ids in truth["defects"]["duplicate_id"].items():
        flagged = {r[0] for r in con.execute(
            "select record_id from quality.quarantine where stream = ? and rule = 'served_once' and not resolved",
            [stream]).fetchall()}
        assert flagged == {str(i) for i in ids}
        # one current row each, and not held back from dbt
        assert not ({(stream, str(i)) for i in ids} & current_quarantine(con))


def test_tombstones_are_never_judged(sandbox_run):
    con, truth = sandbox_run.con, sandbox_run.truth
    for stream, ids in truth["defects"]["deleted"].items():
        held = {(stream, str(i)) for i in ids} & current_quarantine(con)
        assert not held, held


def test_batch_accounting_adds_up_and_says_where_each_row_ended(sandbox_run):
    con = sandbox_run.con
    rows = con.execute(
        "select stream, batch_id, rows_in, rows_passed, rows_quarantined from quality.batch_accounting"
    ).fetchall()
    assert {r[0] for r in rows} == set(sandbox_run.report.streams)
    for stream, batch, rows_in, passed, held in rows:
        landed = con.execute(f"select count(*) from raw.{stream} where _batch_id = ?", [batch]).fetchone()[0]
        assert rows_in == landed == passed + held, (stream, batch)
        # where each row ended: quarantined rows are exactly the batch's rows with an error entry
        # (each landed once here, so a record id names one row), every other row passed
        in_quarantine = con.execute(
            "select count(distinct record_id) from quality.quarantine where stream = ? and batch_id = ? "
            "and severity = 'error'", [stream, batch]).fetchone()[0]
        assert held == in_quarantine, (stream, batch)
        statuses = con.execute(
            f"""select case when q.record_id is null then 'passed' else 'quarantined' end as ended, count(*)
            from raw.{stream} r left join (
                select distinct record_id from quality.quarantine
                where stream = ? and batch_id = ? and severity = 'error') q on q.record_id = r._record_id
            where r._batch_id = ? group by 1""", [stream, batch, batch]).fetchall()
        assert dict(statuses).get("passed", 0) == passed and dict(statuses).get("quarantined", 0) == held


def test_report_matches_tables(sandbox_run):
    report, con = sandbox_run.report, sandbox_run.con
    leads = report.streams["crm_leads"]
    held = con.execute(
        "select count(distinct record_id) from quality.quarantine_current where stream = 'crm_leads'"
    ).fetchone()[0]
    assert leads.error_rows == held > 0
    assert not report.blocks  # defects are a few percent: quarantined, not blocking
    results = con.execute(
        "select rule, failed from quality.rule_results where run_id = ? and stream = 'crm_leads'",
        [report.run_id]).fetchall()
    assert dict(results) == {r.rule: r.failed for r in leads.rules}
    # Great Expectations counts the very rows the SQL counts
    theirs = {(o.stream, o.rule): o.unexpected_count for o in report.gx}
    validated = {o.stream for o in report.gx}
    assert validated == {"crm_leads", "crm_opportunities", "erp_payments"}
    assert theirs == {(s, r.rule): r.failed for s, res in report.streams.items() if s in validated for r in res.rules}
    assert report.streams["crm_leads"].gx_success is False and report.streams["crm_quotas"].gx_success is None
    index = sandbox_run.docs_dir / "index.html"
    assert report.docs_index == index and "crm_opportunities" in index.read_text(encoding="utf-8")


def pairs(groups) -> set[tuple[str, str]]:
    return {p for g in groups for p in itertools.combinations(sorted(map(str, g)), 2)}


@pytest.mark.parametrize("stream", ["crm_leads", "crm_contacts", "erp_customers"])
def test_identity_clusters_match_the_true_clusters(sandbox_run, stream):
    con, truth = sandbox_run.con, sandbox_run.truth
    groups = con.execute(
        "select list(record_id) from quality.identity_map where entity = ? group by canonical_id", [stream]
    ).fetchall()
    predicted = pairs(g[0] for g in groups if len(g[0]) > 1)
    true = pairs(truth["clusters"][stream])
    assert true, f"no true clusters for {stream} at this scale"
    tp = len(predicted & true)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(true)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    assert f1 >= 0.99, (stream, precision, recall, sorted(true - predicted)[:5], sorted(predicted - true)[:5])


def test_identity_map_covers_every_current_record_once(sandbox_run):
    con = sandbox_run.con
    for stream in ("crm_leads", "crm_contacts", "crm_accounts", "erp_customers"):
        current = con.execute(f"select count(distinct _record_id) from raw.{stream}").fetchone()[0]
        mapped, distinct = con.execute(
            "select count(*), count(distinct record_id) from quality.identity_map where entity = ?", [stream]
        ).fetchone()
        assert mapped == distinct == current, stream


def test_erp_customers_join_their_crm_account(sandbox_run):
    """Accounts and customers share one id space: each ERP customer maps to its account's id."""
    con, truth = sandbox_run.con, sandbox_run.truth
    canonical = dict(con.execute(
        "select entity || '/' || record_id, canonical_id from quality.identity_map "
        "where entity in ('crm_accounts', 'erp_customers')").fetchall())
    links = truth["links"]["account_customer"]
    assert {how for _, _, how in links} == {"vat", "name"}
    for account_id, customer_id, how in links:
        assert canonical[f"erp_customers/{customer_id}"] == canonical[f"crm_accounts/{account_id}"], how
        assert canonical[f"crm_accounts/{account_id}"].startswith("crm:")
