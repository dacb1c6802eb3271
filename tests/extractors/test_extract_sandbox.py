"""Extraction against the real sandbox: counts equal the truth, reruns add nothing,
a killed run resumes without loss or duplicates, incremental runs land exactly the changes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from extractors.config import ExtractConfig, load_config
from extractors.crm_fxiaoke import FxiaokeClient
from extractors.extract import extract_source, extract_stream
from extractors.streams import SOURCES, STREAMS, get_stream

from extractors.sandbox import SandboxProcess  # noqa: E402

ROOT = Path(__file__).parents[2]
SEED = 11
SCALE = 0.05


def _config(url: str, **overrides: object) -> ExtractConfig:
    return load_config(sandbox_url=url, overrides=overrides, env={})


def _extract_all(cfg: ExtractConfig, wh: str, **kw: object) -> dict[str, object]:
    results = {}
    for source in SOURCES:
        for result in extract_source(source, cfg, wh, **kw):
            results[result.stream] = result
    return results


def _counts(wh: str) -> dict[str, int]:
    with duckdb.connect(wh, read_only=True) as con:
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in STREAMS}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    truth = tmp_path_factory.mktemp("truth") / "truth.json"
    with SandboxProcess(SEED, SCALE, truth_path=str(truth)) as sb:
        yield sb


def test_full_extraction_equals_truth_and_rerun_adds_nothing(sandbox: object, tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    cfg = _config(sandbox.url)
    served = sandbox.truth()["served_counts"]
    first = _extract_all(cfg, wh)
    assert _counts(wh) == {t: served[t] for t in STREAMS}
    assert all(r.rows_read == served[t] for t, r in first.items())
    assert first["crm_leads"].cursor_after is not None
    again = _extract_all(cfg, wh)
    assert {t: r.rows_landed for t, r in again.items()} == {t: 0 for t in STREAMS}
    assert _counts(wh) == {t: served[t] for t in STREAMS}
    refreshed = extract_stream("crm_leads", cfg, wh, full_refresh=True)
    assert refreshed.rows_read == served["crm_leads"] and refreshed.rows_landed == 0


def test_tombstones_land_as_deleted_rows(sandbox: object, tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    cfg = _config(sandbox.url)
    deleted = sandbox.truth()["defects"]["deleted"]
    for table in ("crm_leads", "mkt_campaigns", "erp_customers"):
        extract_stream(table, cfg, wh)
        with duckdb.connect(wh, read_only=True) as con:
            got = {r for (r,) in con.execute(f"select _record_id from raw.{table} where _deleted").fetchall()}
        assert got == {str(i) for i in deleted[table]}, table


KILL_CHILD = textwrap.dedent(
    """
    import sys
    from extractors.config import load_config
    from extractors.extract import extract_stream
    cfg = load_config(sandbox_url=sys.argv[1], env={}, overrides={
        "commit_rows": 100, "crm.rate_limit_per_second": 5})
    def progress(stream, read, landed):
        print(landed, flush=True)
    extract_stream("crm_leads", cfg, sys.argv[2], progress=progress)
    print("done", flush=True)
    """
)


def test_killed_run_resumes_without_loss_or_duplicates(sandbox: object, tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    total = sandbox.truth()["served_counts"]["crm_leads"]
    child = subprocess.Popen(
        [sys.executable, "-c", KILL_CHILD, sandbox.url, wh],
        stdout=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.stdout is not None
    for line in child.stdout:
        if line.strip() != "done" and int(line) >= 100:
            child.send_signal(signal.SIGKILL)  # mid-stream: commits done, more pages pending
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    landed_before = _counts_one(wh, "crm_leads")
    assert 100 <= landed_before < total
    result = extract_stream("crm_leads", _config(sandbox.url), wh)
    assert result.resumed and result.rows_read < total  # continued from the checkpoint
    with duckdb.connect(wh, read_only=True) as con:
        rows, versions, ids = con.execute(
            "select count(*), count(distinct (_record_id, _cursor)), count(distinct _record_id) from raw.crm_leads"
        ).fetchone()
    assert rows == versions == ids == total


def _counts_one(wh: str, table: str) -> int:
    with duckdb.connect(wh, read_only=True) as con:
        return con.execute(f"select count(*) from raw.{table}").fetchone()[0]


def test_incremental_run_lands_exactly_the_changes(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    with SandboxProcess(SEED + 1, SCALE, truth_path=str(tmp_path / "truth.json")) as sb:
        cfg = _config(sb.url)
        _extract_all(cfg, wh)
        sb.advance()
        truth = sb.truth()
        second = _extract_all(cfg, wh)
        changes = truth["changes"]
        with duckdb.connect(wh, read_only=True) as con:
            for table, result in second.items():
                expected = _changed_ids(changes.get(table, {}))
                got = set()
                if result.batch_ids:
                    marks = ",".join(f"'{b}'" for b in result.batch_ids)
                    got = {r for (r,) in con.execute(
                        f"select _record_id from raw.{table} where _batch_id in ({marks})").fetchall()}
                if get_stream(table).incremental:
                    assert got == expected, table
                else:
                    assert expected <= got, table  # snapshots land each changed record
                deleted = {str(i) for i in changes.get(table, {}).get("deleted", [])}
                if deleted:
                    flagged = {r for (r,) in con.execute(
                        f"select _record_id from raw.{table} where _deleted and _batch_id in ({marks})").fetchall()}
                    assert deleted <= flagged, table
        assert sum(len(_changed_ids(c)) for c in changes.values()) > 10  # the epoch changed things
        with duckdb.connect(wh, read_only=True) as con:  # the latest version of every id is served
            latest = con.execute(
                "select count(*) from (select distinct _record_id from raw.crm_leads)"
            ).fetchone()[0]
        assert latest == truth["served_counts"]["crm_leads"]


def _changed_ids(change: object) -> set[str]:
    if isinstance(change, dict):
        return {str(i) for ids in change.values() for i in ids}
    return {str(i) for i in change}  # type: ignore[union-attr]


def test_expired_token_is_refreshed_and_retried(tmp_path: Path) -> None:
    with SandboxProcess(SEED, 0.01, truth_path=str(tmp_path / "t.json"), token_ttl=1) as sb:
        client = FxiaokeClient(_config(sb.url, **{"crm.token_refresh_margin_seconds": 0}), env={})
        try:
            first = list(client.read(get_stream("crm_departments"), None, None))
            assert client.tokens_fetched == 1
            client._refresh_at = float("inf")  # our cache believes the token is still good ...
            time.sleep(1.5)  # ... but the server expired it: it answers 20016
            again = list(client.read(get_stream("crm_departments"), None, None))
            assert client.tokens_fetched == 2
            assert [p.records for p in again] == [p.records for p in first]
        finally:
            client.close()
        # Proactive refresh: with the TTL known, a long run renews the token before expiry.
        wh = str(tmp_path / "wh.duckdb")
        slow = _config(sb.url, **{"crm.rate_limit_per_second": 8})
        result = extract_stream("crm_leads", slow, wh)
        assert result.rows_landed == sb.truth()["served_counts"]["crm_leads"]


@pytest.mark.parametrize("faults", ["flaky"])
def test_faulty_sandbox_still_lands_exactly_the_truth(tmp_path: Path, faults: str) -> None:
    wh = str(tmp_path / "wh.duckdb")
    with SandboxProcess(SEED, SCALE, faults=faults, truth_path=str(tmp_path / "truth.json")) as sb:
        cfg = _config(sb.url, **{f"{s}.retry.wait_initial_seconds": 0.05 for s in SOURCES})
        _extract_all(cfg, wh)
        truth = sb.truth()
    assert _counts(wh) == {t: truth["served_counts"][t] for t in STREAMS}
    served = truth["faults_served"]
    assert sum(n for kind, n in served.items() if kind != "slow") >= 3  # faults really happened


def test_refused_resume_cursor_rereads_without_duplicates(sandbox: object, tmp_path: Path) -> None:
    """A saved HubSpot `after` that the server no longer accepts: start the window again."""
    from extractors.state import StreamState, load_state, save_state

    wh = str(tmp_path / "wh.duckdb")
    cfg = _config(sandbox.url, commit_rows=500)
    extract_stream("mkt_campaign_daily_metrics", cfg, wh)
    with duckdb.connect(wh) as con:
        state = load_state(con, "mkt_campaign_daily_metrics")
        save_state(con, "mkt_campaign_daily_metrics", StreamState(
            state.cursor, {"since": None, "position": {"after": "not-a-cursor"}, "run_max": state.cursor}), None)
    result = extract_stream("mkt_campaign_daily_metrics", cfg, wh)
    served = sandbox.truth()["served_counts"]["mkt_campaign_daily_metrics"]
    assert result.resumed and result.rows_read == served and result.rows_landed == 0
    assert _counts_one(wh, "mkt_campaign_daily_metrics") == served


@pytest.mark.parametrize(
    ("stream", "env"),
    [
        ("crm_leads", {"FXIAOKE_APP_SECRET": "zz-secret-42"}),
        ("mkt_campaigns", {"HUBSPOT_ACCESS_TOKEN": "zz-secret-42"}),
        ("erp_customers", {"ODOO_API_KEY": "zz-secret-42"}),
    ],
)
def test_bad_credentials_stop_at_once_with_a_configuration_error(
    sandbox: object, tmp_path: Path, stream: str, env: dict[str, str]
) -> None:
    from extractors.connector import ConfigurationError
    from extractors.extract import ExtractionError, make_client

    cfg = _config(sandbox.url)
    client_cls = type(make_client(get_stream(stream).source, cfg))
    client = client_cls(cfg, env=env)
    with pytest.raises(ExtractionError) as err:
        extract_stream(stream, cfg, str(tmp_path / "wh.duckdb"), client=client)
    assert isinstance(err.value.cause, ConfigurationError)
    assert client.http.requests_sent == 1  # no retries on a configuration error
    assert "zz-secret-42" not in str(err.value)  # the secret is not echoed
    client.close()


def test_schema_drift_is_reported_against_earlier_batches(sandbox: object, tmp_path: Path) -> None:
    """A field that earlier runs saw as a string arrives as a number: reported, still landed."""
    wh = str(tmp_path / "wh.duckdb")
    cfg = _config(sandbox.url)
    first = extract_stream("crm_leads", cfg, wh)
    assert first.drift == {}  # the declared fields plus known server fields: no noise
    with duckdb.connect(wh) as con:  # pretend earlier batches typed `company` differently
        con.execute("update raw._schemas set json_type = 'number' where stream = 'crm_leads' and field = 'company'")
        con.execute("insert into raw._schemas select stream, 'retired_field__c', 'string', first_seen_at, last_seen_at "
                    "from raw._schemas where stream = 'crm_leads' limit 1")
    again = extract_stream("crm_leads", cfg, wh, full_refresh=True)
    assert again.drift["type_changes"] == {"company": [["number"], ["string"]]}
    assert again.drift["missing_fields"] == ["retired_field__c"] and again.rows_landed == 0
