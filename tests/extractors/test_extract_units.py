"""Pure pieces of the extractors: config and secrets, stream table, cursor arithmetic, drift, state."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from extractors import landing
from extractors.config import load_config
from extractors.connector import iso_to_epoch_ms, shift_cursor
from extractors.drift import MIN_ROWS_FOR_MISSING, SchemaObserver, drift_report
from extractors.state import StreamState, ensure_state_table, load_state, save_state
from extractors.streams import STREAMS, get_stream, record_keys, streams_of

CONTRACT = Path(__file__).parents[2] / "docs" / "source_contract.md"


def test_every_contract_table_is_a_stream() -> None:
    text = CONTRACT.read_text(encoding="utf-8")
    import re

    tables = set(re.findall(r"^\| `((?:crm|mkt|erp)_[a-z_]+)` \|", text, flags=re.M))
    assert tables == set(STREAMS)
    assert {s.source for s in STREAMS.values()} == {"crm", "marketing", "erp"}
    assert len(streams_of("erp")) == 6 and len(streams_of("marketing")) == 4


def test_record_keys_read_id_cursor_and_tombstones() -> None:
    crm = record_keys("crm_leads")
    lead = {"_id": "a" * 24, "last_modified_time": 1772328600000, "is_deleted": False, "life_status": "normal"}
    assert (crm.record_id(lead), crm.cursor(lead), crm.deleted(lead)) == ("a" * 24, 1772328600000, False)
    assert crm.deleted({**lead, "life_status": "invalid"}) and crm.deleted({**lead, "is_deleted": True})
    partner = record_keys("erp_customers")
    assert partner.deleted({"id": 1, "active": False}) and not partner.deleted({"id": 1, "active": True})
    assert not partner.deleted({"id": 1, "active": 0})  # 0 == False in Python, but not a tombstone
    assert record_keys("erp_invoices").deleted({"state": "cancel"})
    assert record_keys("mkt_campaigns").deleted({"archived": True})
    assert record_keys("crm_users").cursor({"openUserId": "FSUID_x"}) is None


def test_shift_cursor_keeps_each_format() -> None:
    assert shift_cursor("1772328600000", "epoch_ms", 300) == "1772328300000"
    assert shift_cursor("2026-03-01 01:30:00", "odoo_datetime", 300) == "2026-03-01 01:25:00"
    assert shift_cursor("2026-03-01T01:30:00.250Z", "iso", 60) == "2026-03-01T01:29:00.250Z"
    assert iso_to_epoch_ms("2026-03-01T01:30:00Z") == 1772328600000


def test_config_reads_yaml_env_and_hides_secrets(tmp_path: Path) -> None:
    cfg_file = tmp_path / "x.yaml"
    cfg_file.write_text("use_sandbox_credentials: false\ncrm: {page_size: 50, rate_limit_per_second: 5}\n")
    env = {"SFA_SANDBOX_URL": "http://127.0.0.1:1234/", "HUBSPOT_ACCESS_TOKEN": "tok-123", "ODOO_URL": "http://erp"}
    cfg = load_config(cfg_file, env=env)
    assert cfg.crm.page_size == 50 and cfg.crm.rate_limit_per_second == 5
    assert cfg.base_url("crm") == "http://127.0.0.1:1234" and cfg.base_url("erp") == "http://erp"
    secret = cfg.secret("HUBSPOT_ACCESS_TOKEN", env)
    assert secret.get_secret_value() == "tok-123" and "tok-123" not in repr(secret)
    with pytest.raises(ValueError, match="FXIAOKE_APP_SECRET is not set"):
        cfg.secret("FXIAOKE_APP_SECRET", env)
    with pytest.raises(ValueError):
        load_config(cfg_file, overrides={"crm.page_size": 500}, env=env)  # Fxiaoke max is 100
    default = load_config(env={})
    assert default.secret("ODOO_API_KEY", {}).get_secret_value() == "sandbox-key"
    assert load_config(sandbox_url="http://127.0.0.1:9", env={}).rate_limit("crm") is None
    real = load_config(env={"FXIAOKE_BASE_URL": "https://open.fxiaoke.com"})
    assert real.rate_limit("crm") == 5.0 and real.rate_limit("marketing") is None


def test_drift_report_new_missing_and_retyped_fields() -> None:
    first = SchemaObserver()
    first.observe([{"_id": str(i), "amount": "1.00", "name": "x"} for i in range(MIN_ROWS_FOR_MISSING)])
    report = drift_report({}, first, declared=("_id", "amount", "name"))
    assert report["drift"] is False and report["baseline"] == "declared"
    reference = {k: set(v) for k, v in first.types.items()}
    later = SchemaObserver()
    later.observe([{"_id": str(i), "amount": 1.0, "extra__c": True} for i in range(MIN_ROWS_FOR_MISSING)])
    report = drift_report(reference, later)
    assert report["new_fields"] == ["extra__c"]
    assert report["missing_fields"] == ["name"]
    assert report["type_changes"] == {"amount": [["string"], ["number"]]}
    few = SchemaObserver()
    few.observe([{"_id": "1", "amount": "2.00"}])
    assert drift_report(reference, few)["missing_fields"] == []  # too few rows to say


def test_hubspot_drift_looks_inside_properties() -> None:
    obs = SchemaObserver(root="properties")
    stream = get_stream("mkt_campaigns")
    props = {name: "x" for name in stream.fields}
    obs.observe([{"id": "1", "properties": {**props, "new_prop": "y"}, "createdAt": "t", "updatedAt": "t", "archived": False}])
    assert drift_report({}, obs, stream.fields)["new_fields"] == ["properties.new_prop"]


def test_state_round_trip_and_dedup_landing(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        ensure_state_table(con)
        assert load_state(con, "crm_leads") == StreamState()
        save_state(con, "crm_leads", StreamState("5", {"since": "1", "position": {"after_id": "b"}}), "x")
        save_state(con, "crm_leads", StreamState("7", None), "y")
        assert load_state(con, "crm_leads") == StreamState("7", None)
        keys = record_keys("crm_leads")
        landing.ensure_raw_table(con, "crm_leads")
        page = [{"_id": "a", "last_modified_time": 1}, {"_id": "a", "last_modified_time": 1}, {"_id": "b", "last_modified_time": 1}]
        batch = landing.page_to_arrow(page, source="crm", stream="crm_leads", batch_id="r1-00001", keys=keys)
        # The source's own repeat lands as received (the quality layer counts it) ...
        assert landing.append_new_versions(con, "crm_leads", batch, run_id="r1") == 3
        # ... and a later run reading the same versions adds nothing.
        assert landing.append_new_versions(con, "crm_leads", batch, run_id="r2") == 0
        newer = landing.page_to_arrow([{"_id": "a", "last_modified_time": 2}], source="crm", stream="crm_leads", batch_id="r3-1", keys=keys)
        assert landing.append_new_versions(con, "crm_leads", newer, run_id="r3") == 1  # a late update lands
        users = record_keys("crm_users")
        landing.ensure_raw_table(con, "crm_users")
        snap = [{"openUserId": "u1", "name": "A"}, {"openUserId": "u2", "name": "B"}]
        mk = lambda recs: landing.page_to_arrow(recs, source="crm", stream="crm_users", batch_id="s", keys=users)  # noqa: E731
        assert landing.append_new_versions(con, "crm_users", mk(snap), by_content=True) == 2
        assert landing.append_new_versions(con, "crm_users", mk(snap), by_content=True) == 0
        changed = [{"openUserId": "u1", "name": "A2"}, snap[1]]
        assert landing.append_new_versions(con, "crm_users", mk(changed), by_content=True) == 1


@pytest.mark.parametrize(
    ("code", "error"),
    [(-1, "RetryableError"), (50009, "RetryableError"), (30004, "RetryableError"),
     (20016, "TokenExpired"), (20017, "ConfigurationError"), (10006, "ConfigurationError"),
     (20006, "ConfigurationError"), (20015, "ConfigurationError"), (30002, "QuotaExhausted"),
     (30003, "QuotaExhausted"), (10013, "SourceError")],
)  # fmt: skip
def test_fxiaoke_error_codes_map_to_actions(code: int, error: str) -> None:
    from extractors.crm_fxiaoke import _check

    _check({"errorCode": 0, "errorMessage": "OK"})  # success passes
    with pytest.raises(Exception) as err:
        _check({"errorCode": code, "errorMessage": "x", "traceId": "E-1"})
    assert type(err.value).__name__ == error and str(code) in str(err.value)


def test_odoo_errors_map_to_actions() -> None:
    from extractors.connector import ConfigurationError
    from extractors.erp_odoo import _check
    from extractors.http import RetryableError, SourceError

    def err(name: str) -> dict:
        return {"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error", "data": {"name": name, "message": "m"}}}

    _check({"jsonrpc": "2.0", "id": 1, "result": []})
    with pytest.raises(ConfigurationError):
        _check(err("odoo.exceptions.AccessDenied"))
    with pytest.raises(RetryableError):
        _check(err("psycopg2.errors.SerializationFailure"))
    with pytest.raises(SourceError, match="builtins.ValueError"):
        _check(err("builtins.ValueError"))


def test_sandbox_credentials_never_go_to_a_configured_tenant():
    from extractors.config import load_config

    to_sandbox = load_config(sandbox_url="http://127.0.0.1:9", env={})
    assert to_sandbox.secret("FXIAOKE_APP_SECRET", env={}).get_secret_value() == "sandbox-secret"
    tenant = load_config(sandbox_url="http://127.0.0.1:9", env={"FXIAOKE_BASE_URL": "https://open.fxiaoke.com"})
    with pytest.raises(ValueError, match="FXIAOKE_APP_SECRET is not set"):
        tenant.secret("FXIAOKE_APP_SECRET", env={})
    assert tenant.secret("HUBSPOT_ACCESS_TOKEN", env={}).get_secret_value() == "sandbox-token"
