"""Retries: a source that always fails ends in an error naming the stream and its cursor."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from extractors.config import load_config
from extractors.extract import ExtractionError, extract_stream
from extractors.http import RetriesExhausted
from extractors.state import StreamState, ensure_state_table, save_state


class _Always500(BaseHTTPRequestHandler):
    hits = 0

    def _fail(self) -> None:
        type(self).hits += 1
        body = b'{"status": "error", "message": "boom"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _fail

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_url() -> Iterator[str]:
    _Always500.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Always500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("stream", "cursor"),
    [
        ("crm_leads", "1772328600000"),
        ("mkt_campaigns", "2026-03-01T01:30:00.000Z"),
        ("erp_sales_orders", "2026-03-01 01:30:00"),
    ],
)
def test_retry_exhaustion_names_stream_and_cursor(
    tmp_path: Path, failing_url: str, stream: str, cursor: str
) -> None:
    wh = str(tmp_path / "wh.duckdb")
    with duckdb.connect(wh) as con:
        ensure_state_table(con)
        save_state(con, stream, StreamState(cursor=cursor), None)
    cfg = load_config(
        sandbox_url=failing_url,
        overrides={
            f"{src}.retry": {"attempts": 3, "wait_initial_seconds": 0.01, "wait_max_seconds": 0.02}
            for src in ("crm", "marketing", "erp")
        },
    )
    with pytest.raises(ExtractionError) as err:
        extract_stream(stream, cfg, wh)
    message = str(err.value)
    assert stream in message and cursor in message and "HTTP 500" in message
    assert isinstance(err.value.cause, RetriesExhausted)
    assert _Always500.hits == 3  # every attempt reached the server, then it gave up
