"""The HTTP layer against a scripted local server: Retry-After, truncated bodies, rate limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from extractors.config import RetryConfig, SourceConfig
from extractors.http import HttpClient, RetriesExhausted, SourceError


class _Scripted(BaseHTTPRequestHandler):
    """Serves `script` in order (then the last entry forever); records arrival times."""

    protocol_version = "HTTP/1.1"
    script: list[tuple[int, dict[str, str], bytes, bool]] = []
    seen: list[float] = []

    def do_GET(self) -> None:
        cls = type(self)
        cls.seen.append(time.monotonic())
        status, headers, body, truncate = cls.script[min(len(cls.seen) - 1, len(cls.script) - 1)]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if truncate else body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Scripted.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _client(url: str, **cfg: object) -> HttpClient:
    retry = RetryConfig(attempts=4, wait_initial_seconds=0.01, wait_max_seconds=0.05)
    return HttpClient("test", url, SourceConfig(retry=retry, **cfg))


OK = (200, {}, b'{"results": [1, 2, 3]}', False)


def test_retry_after_is_honoured(server: str) -> None:
    _Scripted.script = [(429, {"Retry-After": "1"}, b'{"status": "error"}', False), OK]
    with _client(server) as client:
        assert client.request_json("GET", "/x") == {"results": [1, 2, 3]}
    first, second = _Scripted.seen
    assert second - first >= 0.95  # waited as told, not our 10 ms backoff


def test_truncated_body_is_retried(server: str) -> None:
    _Scripted.script = [(200, {}, b'{"results": [1, 2, 3], "pad": "' + b"x" * 5000 + b'"}', True), OK]
    with _client(server) as client:
        assert client.request_json("GET", "/x") == {"results": [1, 2, 3]}
    assert len(_Scripted.seen) == 2


def test_client_errors_are_not_retried_and_5xx_runs_out(server: str) -> None:
    _Scripted.script = [(404, {}, b'{"message": "no such path"}', False)]
    with _client(server) as client, pytest.raises(SourceError, match="HTTP 404.*no such path"):
        client.request_json("GET", "/x")
    assert len(_Scripted.seen) == 1
    _Scripted.seen = []
    _Scripted.script = [(503, {}, b"{}", False)]
    with _client(server) as client, pytest.raises(RetriesExhausted, match="gave up after 4 attempts"):
        client.request_json("GET", "/x")
    assert len(_Scripted.seen) == 4


def test_rate_limit_spaces_requests(server: str) -> None:
    _Scripted.script = [OK]
    with _client(server, rate_limit_per_second=5) as client:
        for _ in range(7):
            client.request_json("GET", "/x")
    assert _Scripted.seen[-1] - _Scripted.seen[0] >= 0.9  # 7 requests at 5/s need >= ~1 s
