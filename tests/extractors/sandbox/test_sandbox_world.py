"""The sandbox world: contract coverage, determinism, wire shapes, truth figures, epochs."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import orjson
import pytest

from extractors.sandbox import timefmt as T
from extractors.sandbox.world import World

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "source_contract.md"
SCALE = 0.1


@pytest.fixture(scope="module")
def world() -> World:
    return World(11, SCALE)


def _all_bytes(w: World, stream: str) -> bytes:
    return b"\n".join(orjson.dumps(r) for r in w.iter_records(stream))


def test_streams_are_exactly_the_contract_raw_tables(world: World) -> None:
    text = CONTRACT.read_text()
    tables = set(re.findall(r"^\| `((?:crm|mkt|erp)_[a-z_]+)` \|", text, flags=re.M))
    assert len(tables) == 20
    assert set(world.streams()) == tables


def test_same_seed_same_bytes_other_seed_differs() -> None:
    a, b, c = World(5, 0.05), World(5, 0.05), World(6, 0.05)
    for stream in a.streams():
        assert _all_bytes(a, stream) == _all_bytes(b, stream), stream
    assert _all_bytes(a, "crm_leads") != _all_bytes(c, "crm_leads")
    assert a.truth()["figures"] == b.truth()["figures"]


def test_count_and_iter_records_from_any_start(world: World) -> None:
    for stream in world.streams():
        full = list(world.iter_records(stream))
        assert len(full) == world.count(stream) > 0, stream
        start = len(full) // 2 + 7 if len(full) > 20 else 1
        assert list(world.iter_records(stream, start)) == full[start:], stream


def test_key_order_is_ascending(world: World) -> None:
    for stream in world.streams():
        recs = list(world.iter_records(stream))
        if stream.startswith("crm_") and stream not in ("crm_departments", "crm_users"):
            keys = [r["_id"] for r in recs]
            assert all(re.fullmatch(r"[0-9a-f]{24}", k) for k in keys)
        elif stream.startswith("mkt_"):
            keys = [int(r["id"]) for r in recs]
        elif stream.startswith("erp_"):
            keys = [r["id"] for r in recs]
        else:
            continue
        assert keys == sorted(keys), stream
        if stream != "mkt_form_submissions":  # served twice on purpose, see duplicate_id
            assert len(set(keys)) == len(keys), stream


def _walk(value: object) -> list:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


def test_wire_shapes(world: World) -> None:
    money = re.compile(r"-?\d+\.\d{2}")
    for r in world.iter_records("crm_opportunities"):
        assert None not in _walk(r), "CRM leaves null fields out"
        assert isinstance(r["create_time"], int) and isinstance(r["last_modified_time"], int)
        assert isinstance(r["is_deleted"], bool)
        assert money.fullmatch(r["amount"])
        if "owner" in r:
            assert isinstance(r["owner"], list) and r["owner"][0].startswith("FSUID_")
        if "close_date" in r:  # midnight Asia/Shanghai
            assert (r["close_date"] + T.TZ_OFFSET_MS) % T.DAY_MS == 0
    for stream in ("mkt_campaigns", "mkt_form_submissions", "mkt_engagement_events", "mkt_campaign_daily_metrics"):
        for r in world.iter_records(stream):
            assert set(r) == {"id", "properties", "createdAt", "updatedAt", "archived"}
            assert all(isinstance(v, str) for v in r["properties"].values())
            assert r["updatedAt"].endswith("Z")
    for r in world.iter_records("erp_sales_orders"):
        assert None not in _walk(r)
        assert isinstance(r["id"], int) and isinstance(r["amount_total"], float)
        assert isinstance(r["partner_id"], list) and len(r["partner_id"]) == 2
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r["write_date"])
        assert r["client_order_ref"] is False or len(r["client_order_ref"]) == 24
    users = list(world.iter_records("crm_users"))
    ids = {u["openUserId"] for u in users}
    assert all(u.get("leaderId", next(iter(ids))) in ids for u in users)


@pytest.mark.parametrize("seed, scale", [(11, SCALE), (1, 20.0), (42, 20.0)])
def test_cursors_never_pass_as_of(seed: int, scale: float) -> None:
    """Else an incremental pull after an advance would see rows that did not change."""
    w = World(seed, scale)
    for stream in w.streams():
        assert int(w.cursor_ms(stream).max()) <= w.as_of_ms, stream


def _valid_opp(r: dict) -> bool:
    return (not r["is_deleted"] and r["life_status"] != "invalid" and "owner" in r and "close_date" in r
            and Decimal(r["amount"]) >= 0)


def test_truth_revenue_and_win_rate_recomputed_from_records(world: World) -> None:
    truth = world.truth()
    accounts = {r["_id"] for r in world.iter_records("crm_accounts")}
    fx = {k: Decimal(v) for k, v in truth["figures"]["fx_rates_to_cny"].items()}
    by_month: dict[str, Decimal] = defaultdict(Decimal)
    won = lost = 0
    for r in world.iter_records("crm_opportunities"):
        if not _valid_opp(r) or r["account_id"] not in accounts:
            continue
        if r["sales_status"] == "won":
            won += 1
            month = T.shanghai_month([r["close_date"]])[0]
            by_month[month] += (Decimal(r["amount"]) * fx[r["mc_currency"]]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        elif r["sales_status"] == "lost":
            lost += 1
    fig = truth["figures"]
    assert (fig["won"], fig["lost"]) == (won, lost)
    assert fig["win_rate"] == str((Decimal(won) / (won + lost)).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    assert fig["won_revenue_by_month"] == {m: str(v) for m, v in sorted(by_month.items())}
    assert won > 10 and lost > 10


def test_truth_funnel_recomputed_from_records_and_clusters(world: World) -> None:
    truth = world.truth()
    opps = {r["_id"]: r for r in world.iter_records("crm_opportunities")}
    leads = [r for r in world.iter_records("crm_leads")
             if not r["is_deleted"] and r["life_status"] != "invalid" and r.get("name")
             and (r.get("email") or r.get("mobile") or r.get("tel"))]
    cluster_of = {i: c[0] for c in truth["clusters"]["crm_leads"] for i in c}
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in leads:
        groups[cluster_of.get(r["_id"], r["_id"])].append(r)
    funnel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(["leads", "mql", "sql", "opportunity", "won"], 0))
    for members in groups.values():
        first = min(members, key=lambda r: r["create_time"])
        f = funnel[first["source"]]
        f["leads"] += 1
        f["mql"] += any("mql_time__c" in m for m in members)
        f["sql"] += any("sql_time__c" in m for m in members)
        mopps = [opps.get(m.get("new_opportunity_id")) for m in members]
        mopps = [o for o in mopps if o is not None and _valid_opp(o)]
        f["opportunity"] += bool(mopps)
        f["won"] += any(o["sales_status"] == "won" for o in mopps)
    assert truth["figures"]["distinct_people"] == len(groups)
    expected = {ch: funnel[ch] for ch in truth["figures"]["funnel_by_channel"]}
    assert truth["figures"]["funnel_by_channel"] == expected
    # Channel-dependent conversion: referrals convert better than social.
    fb = truth["figures"]["funnel_by_channel"]
    assert fb["referral"]["opportunity"] / fb["referral"]["leads"] > fb["social"]["opportunity"] / fb["social"]["leads"]


def _norm_phone(p: str) -> str:
    d = re.sub(r"\D", "", p.replace("(0)", ""))
    return d[-11:] if len(d) >= 11 else d


def test_identity_duplicates_share_a_normalised_email_or_phone(world: World) -> None:
    truth = world.truth()
    by_id = {r["_id"]: r for r in world.iter_records("crm_leads")}
    assert len(truth["clusters"]["crm_leads"]) >= 10
    for cluster in truth["clusters"]["crm_leads"]:
        emails = {by_id[i].get("email", "").strip().lower() for i in cluster} - {""}
        phones = {_norm_phone(by_id[i].get("mobile") or by_id[i].get("tel") or "") for i in cluster} - {""}
        assert len(emails) <= 1 and len(phones) <= 1, cluster
    variants = [by_id[i] for c in truth["clusters"]["crm_leads"] for i in c[1:]]
    assert any(" " in r.get("mobile", "") or "-" in r.get("mobile", "") for r in variants)


def test_links_by_tax_id_or_name(world: World) -> None:
    truth = world.truth()
    acc = {r["_id"]: r for r in world.iter_records("crm_accounts")}
    cust = {r["id"]: r for r in world.iter_records("erp_customers")}
    links = truth["links"]["account_customer"]
    assert {c for _, c, _ in links} == set(cust)
    by_name = 0
    for a, c, how in links:
        if how == "vat":
            assert cust[c]["vat"] == acc[a]["uniform_social_credit_code"]
        else:
            by_name += 1
            assert cust[c]["vat"] is False or "uniform_social_credit_code" not in acc[a]
    assert by_name > 0


def test_defect_ids_exist_and_mean_what_they_say(world: World) -> None:
    d = world.truth()["defects"]
    leads = {r["_id"]: r for r in world.iter_records("crm_leads")}
    for i in d["missing_required"]["crm_leads"]:
        r = leads[i]
        assert "name" not in r or not ({"email", "mobile", "tel"} & set(r))
    for i in d["deleted"]["crm_leads"]:
        assert leads[i]["is_deleted"] or leads[i]["life_status"] == "invalid"
    orders = {r["id"]: r for r in world.iter_records("erp_sales_orders")}
    cust = {r["id"] for r in world.iter_records("erp_customers")}
    assert d["orphan"]["erp_sales_orders"] and all(orders[i]["partner_id"][0] not in cust
                                                   for i in d["orphan"]["erp_sales_orders"])
    subs = [r["id"] for r in world.iter_records("mkt_form_submissions")]
    assert sorted(d["duplicate_id"]["mkt_form_submissions"]) == sorted({i for i in subs if subs.count(i) > 1})


def test_advance_changes_are_exactly_what_moved_past_as_of() -> None:
    w = World(21, 0.1)
    before = {s: w.cursor_ms(s).copy() for s in w.streams()}
    prev = w.as_of_ms
    changes = w.advance()
    assert w.epoch == 1 and w.as_of_ms == prev + T.DAY_MS
    for stream in w.streams():
        cur = w.cursor_ms(stream)
        rows = np.flatnonzero(cur > prev)
        moved = set(w.ids(stream, rows))
        listed = changes.get(stream, {})
        expect = set(listed.get("created", [])) | set(listed.get("updated", [])) | set(listed.get("deleted", []))
        assert moved == expect, stream
        assert int(cur.max()) <= w.as_of_ms
        assert len(cur) >= len(before[stream])
    assert changes["crm_leads"]["created"] and changes["crm_opportunities"]["updated"]
    assert changes["crm_leads"]["deleted"]
    truth = w.truth()
    assert truth["epoch"] == 1 and truth["changes"] == changes
    assert set(changes["crm_leads"]["updated"]) <= set(truth["defects"]["late_update"]["crm_leads"])


def test_scale_sets_sizes() -> None:
    w = World(1, 0.05)
    assert w.count("crm_leads") == 500
    assert w.count("crm_users") == 1 + 4 + 4 + 20


def test_pages_land_into_duckdb_with_landing_writer(world: World) -> None:
    import duckdb

    from extractors.landing import RecordKeys, land_records

    con = duckdb.connect()
    keys = RecordKeys(record_id=lambda r: r["_id"], cursor=lambda r: r["last_modified_time"],
                      deleted=lambda r: r["is_deleted"] or r["life_status"] == "invalid")
    n = land_records(con, "crm_leads", world.pages("crm_leads", size=500), source="crm", keys=keys)
    assert n == world.count("crm_leads")
    deleted = {r[0] for r in con.execute("select _record_id from raw.crm_leads where _deleted").fetchall()}
    assert deleted == set(world.truth()["defects"]["deleted"]["crm_leads"])
