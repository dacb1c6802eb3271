"""The sandbox over HTTP: every stream pulls to its served count, paging rules, auth, epochs, faults."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from extractors.sandbox.process import SandboxProcess, SandboxThread
from extractors.sandbox.pull import SandboxClient
from extractors.sandbox.world import World

SEED, SCALE = 13, 0.1


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread(seed=SEED, scale=SCALE) as sb:
        yield sb


@pytest.fixture()
def client(sandbox: SandboxThread) -> SandboxClient:
    return SandboxClient(sandbox.url)


def test_full_pull_of_every_stream_equals_served_counts_and_world(sandbox: SandboxThread,
                                                                  client: SandboxClient) -> None:
    truth = sandbox.truth()
    assert len(truth["served_counts"]) == 20
    for stream, n in truth["served_counts"].items():
        rows = client.pull(stream)
        assert len(rows) == n, stream
        assert rows == list(sandbox.world.iter_records(stream)), stream


def _crm(client: SandboxClient, api: str, **sq: object) -> dict:
    return client.crm_query(api, sq)


def test_crm_paging_rules(client: SandboxClient, sandbox: SandboxThread) -> None:
    assert _crm(client, "LeadsObj", offset=0, limit=101)["errorCode"] != 0
    assert _crm(client, "LeadsObj", offset=10_100, limit=100)["errorCode"] == 10013
    assert _crm(client, "LeadsObj", offset=50, limit=100)["errorCode"] != 0
    ok = _crm(client, "LeadsObj", offset=200, limit=100)
    assert ok["errorCode"] == 0 and ok["data"]["offset"] == 200 and ok["data"]["limit"] == 100
    assert ok["data"]["total"] == sandbox.world.count("crm_leads")
    assert client.crm_query("LeadsObj", {"offset": 0, "limit": 10}, total=False)["data"]["total"] == 0
    # Offset paging and _id GT paging return the same records, each once.
    by_offset = []
    for off in range(0, sandbox.world.count("crm_leads"), 100):
        by_offset += _crm(client, "LeadsObj", offset=off, limit=100)["data"]["dataList"]
    by_cursor = [r for page in client.crm_pages("crm_leads") for r in page]
    ids = [r["_id"] for r in by_cursor]
    assert ids == [r["_id"] for r in by_offset] and len(set(ids)) == len(ids)
    # A custom object only on the custom path.
    wrong = client.crm_call("/cgi/crm/v2/data/query", {"data": {"dataObjectApiName": "forecast_submission__c",
                                                                "search_query_info": {"limit": 10}}})
    assert wrong["errorCode"] != 0


def test_crm_filters(client: SandboxClient, sandbox: SandboxThread) -> None:
    leads = list(sandbox.world.iter_records("crm_leads"))
    cut = sorted(r["last_modified_time"] for r in leads)[len(leads) // 2]
    got = [r for p in client.crm_pages("crm_leads", [{"field_name": "last_modified_time", "operator": "GTE",
                                                     "field_values": [cut]}]) for r in p]
    assert [r["_id"] for r in got] == [r["_id"] for r in leads if r["last_modified_time"] >= cut]
    lo, hi = leads[10]["last_modified_time"], leads[-10]["last_modified_time"]
    ans = _crm(client, "LeadsObj", offset=0, limit=100, filters=[
        {"field_name": "last_modified_time", "operator": "BETWEEN", "field_values": [lo, hi]}])
    assert ans["data"]["total"] == sum(lo <= r["last_modified_time"] <= hi for r in leads)
    ans = _crm(client, "LeadsObj", offset=0, limit=100, filters=[
        {"field_name": "source", "operator": "IN", "field_values": ["referral", "email"]}])
    assert ans["data"]["total"] == sum(r["source"] in ("referral", "email") for r in leads)
    assert all(r["source"] in ("referral", "email") for r in ans["data"]["dataList"])
    ans = _crm(client, "LeadsObj", offset=0, limit=100,
               orders=[{"fieldName": "last_modified_time", "isAsc": True}])
    times = [r["last_modified_time"] for r in ans["data"]["dataList"]]
    assert times == sorted(times) and times[0] == min(r["last_modified_time"] for r in leads)


def test_crm_auth_and_token_expiry() -> None:
    with SandboxThread(world=World(1, 0.05), token_ttl=1) as sb:
        s = requests.Session()
        bad = s.post(f"{sb.url}/cgi/corpAccessToken/get/V2",
                     json={"appId": "FSAID_sandbox", "appSecret": "nope", "permanentCode": "sandbox-code"}).json()
        assert bad["errorCode"] == 10006
        c = SandboxClient(sb.url)
        tok = c.crm_token()
        assert c.crm_query("LeadsObj", {"limit": 10})["errorCode"] == 0
        body = {**tok, "data": {"dataObjectApiName": "LeadsObj", "search_query_info": {"limit": 10}}}
        time.sleep(1.3)
        expired = s.post(f"{sb.url}/cgi/crm/v2/data/query", json=body).json()
        assert expired["errorCode"] == 20016
        missing = s.post(f"{sb.url}/cgi/crm/v2/data/query", json={"data": body["data"]}).json()
        assert missing["errorCode"] == 20017
        assert c.crm_query("LeadsObj", {"limit": 10})["errorCode"] == 0  # the client refreshed


def test_marketing_cursor_paging_and_filters(sandbox: SandboxThread, client: SandboxClient) -> None:
    s = requests.Session()
    url = f"{sandbox.url}/marketing/v3/forms/submissions"
    assert s.get(url).status_code == 401
    h = {"Authorization": "Bearer sandbox-token"}
    assert s.get(url, params={"limit": 101}, headers=h).status_code == 400
    every = list(sandbox.world.iter_records("mkt_form_submissions"))
    live = [r for p in client.mkt_pages("mkt_form_submissions", archived=False, limit=37) for r in p]
    assert live == [r for r in every if not r["archived"]]
    cut = sandbox.world.cursor_ms("mkt_form_submissions")[len(every) // 3]
    recent = [r for p in client.mkt_pages("mkt_form_submissions", updated_after=int(cut)) for r in p]
    assert recent == [r for r, c in zip(every, sandbox.world.cursor_ms("mkt_form_submissions")) if c >= cut]
    assert s.get(url, params={"after": "garbage"}, headers=h).status_code == 400


def test_odoo_domain_offset_and_errors(sandbox: SandboxThread, client: SandboxClient) -> None:
    assert client.rpc("common", "authenticate", ["sandbox", "sync@sandbox", "wrong", {}])["result"] is False
    denied = client.rpc("object", "execute_kw", ["sandbox", 2, "wrong", "sale.order", "search_count", [[]]])
    assert denied["error"]["data"]["name"] == "odoo.exceptions.AccessDenied"
    orders = list(sandbox.world.iter_records("erp_sales_orders"))
    since = sorted(r["write_date"] for r in orders)[len(orders) // 2]
    dom = [["write_date", ">=", since], ["id", ">", 3]]
    want = sorted((r for r in orders if r["write_date"] >= since and r["id"] > 3),
                  key=lambda r: (r["write_date"], r["id"]))
    got = []
    for off in range(0, len(want) + 7, 7):
        ans = client.execute_kw("sale.order", "search_read", [dom],
                                {"offset": off, "limit": 7, "order": "write_date asc, id asc"})
        got += ans["result"]
    assert got == want
    assert client.execute_kw("sale.order", "search_count", [dom])["result"] == len(want)
    n = client.execute_kw("res.partner", "search_count", [[["customer_rank", ">", 0]]])["result"]
    assert n == sandbox.world.count("erp_customers")
    inv = client.execute_kw("account.move", "search_read", [[["move_type", "=", "out_invoice"]]],
                            {"fields": ["name", "amount_total"], "limit": 5})["result"]
    assert len(inv) == 5 and set(inv[0]) == {"id", "name", "amount_total"}
    orx = client.execute_kw("sale.order", "search_count", [["|", ["id", "=", 1], ["id", "=", 2]]])["result"]
    assert orx == 2
    assert "error" in client.execute_kw("sale.order", "search_read", [[]], {"limit": 5000})


def test_advance_then_incremental_pull_sees_exactly_the_changes() -> None:
    with SandboxThread(world=World(17, 0.1)) as sb:
        c = SandboxClient(sb.url)
        before = sb.truth()
        as_of0 = before["as_of_ms"]
        for stream in before["served_counts"]:
            if stream in ("crm_departments", "crm_users"):
                continue
            assert c.pull(stream, since_ms=as_of0) == [], stream
        result = sb.advance()
        assert result["epoch"] == 1
        after = sb.truth()
        assert after["changes"] == result["changes"]
        for stream, n in after["served_counts"].items():
            if stream in ("crm_departments", "crm_users"):
                continue
            got = c.pull(stream, since_ms=as_of0)
            ids = {r.get("_id", r.get("id")) for r in got}
            ch = after["changes"].get(stream, {})
            assert ids == set(ch.get("created", [])) | set(ch.get("updated", [])) | set(ch.get("deleted", [])), stream
            assert len(c.pull(stream)) == n, stream


@pytest.mark.parametrize("lean", [False, True], ids=["requests", "http.client"])
def test_faults_are_recoverable_and_counted(lean: bool) -> None:
    w_ok = World(19, 0.05)
    expect = {s: list(w_ok.iter_records(s)) for s in ("crm_leads", "crm_contacts", "mkt_form_submissions",
                                                      "erp_invoices", "erp_sales_orders")}
    with SandboxThread(world=World(19, 0.05), faults="hostile") as sb:
        c = SandboxClient(sb.url, max_attempts=20, max_sleep=0.05, lean=lean)
        for stream, want in expect.items():
            got = []
            for page in (c.crm_pages(stream, limit=20) if stream.startswith("crm") else
                         c.mkt_pages(stream, limit=20) if stream.startswith("mkt") else
                         c.erp_pages(stream, limit=20)):
                got += page
            assert got == want, stream
        served = sb.truth()["faults_served"]
    assert sum(v for k, v in served.items() if k != "slow") >= 5
    assert {"crm_rate_limit", "http_429", "truncated"} & set(served)


def test_cli_process_ready_file_truth_and_sigterm(tmp_path) -> None:
    truth_file = tmp_path / "truth.json"
    with SandboxProcess(seed=3, scale=0.05, truth_path=truth_file, token_ttl=60) as sb:
        assert sb.url.startswith("http://127.0.0.1:")
        on_disk = json.loads(truth_file.read_text())
        assert on_disk["seed"] == 3 and on_disk["served_counts"]["crm_leads"] == 500
        assert requests.get(f"{sb.url}/_sandbox/health", timeout=5).json()["status"] == "ok"
        sb.advance()
        assert json.loads(truth_file.read_text())["epoch"] == 1
        proc = sb.proc
    assert proc is not None and proc.returncode == 0  # stopped cleanly by SIGTERM


def test_incremental_filters_build_only_the_sparse_rows_asked_for() -> None:
    w = World(23, 0.1)
    before = w.as_of_ms
    w.advance()
    with SandboxThread(world=w) as sb:
        c = SandboxClient(sb.url)
        built = []
        original = w.view("crm_leads").build
        w.view("crm_leads").build = lambda idx: built.append(len(idx)) or original(idx)
        got = c.pull("crm_leads", since_ms=before)
        w.view("crm_leads").build = original
    assert {r["_id"] for r in got} == {i for k in ("created", "updated", "deleted")
                                       for i in w.changes["crm_leads"][k]}
    assert sum(built) == len(got)  # no whole blocks generated for a handful of changed rows


def test_odoo_positional_search_read_arguments(sandbox: SandboxThread, client: SandboxClient) -> None:
    ans = client.execute_kw("product.product", "search_read", [[["id", "<=", 3]], ["name"], 1, 2, "id desc"])
    assert [r["id"] for r in ans["result"]] == [2, 1] and set(ans["result"][0]) == {"id", "name"}
