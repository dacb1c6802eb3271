"""One threaded HTTP/1.1 server on loopback serving the CRM, marketing and ERP API shapes.

    server = make_server(World(7, 0.1), port=0)      # 0 = a free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url                                        # http://127.0.0.1:<port>

Paths (docs/source_contract.md): CRM under /cgi/..., marketing under /marketing/v3/... and
/events/v3/events, ERP at /jsonrpc; sandbox control at /_sandbox/{health,truth,advance}.
"""

from __future__ import annotations

import base64
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import orjson

from .faults import Fault, FaultPlan
from .query import Engine, QueryError
from .wire_crm import API_NAMES, CUSTOM_OBJECTS
from .wire_erp import MODELS
from .wire_mkt import PATHS
from .world import World

# Sandbox credentials (contract section 1-3); nothing secret, they only open the sandbox.
CRM_APP_ID, CRM_APP_SECRET, CRM_PERMANENT_CODE = "FSAID_sandbox", "sandbox-secret", "sandbox-code"
CRM_CORP_ID = "FSCID_SANDBOX0000000000000000000001"
MKT_TOKEN = "sandbox-token"
ODOO_DB, ODOO_LOGIN, ODOO_KEY, ODOO_UID = "sandbox", "sync@sandbox", "sandbox-key", 2
CRM_MAX_LIMIT, CRM_MAX_OFFSET = 100, 10_000
MKT_MAX_LIMIT, ODOO_MAX_LIMIT = 100, 1000
TOKEN_TTL = 7200

OBJECT_TO_STREAM = {v: k for k, v in API_NAMES.items()}
MODEL_TO_STREAM = {v: k for k, v in MODELS.items()}
PATH_TO_STREAM = {v: k for k, v in PATHS.items()}
CRM_ERRORS = {
    20016: "the cropId,cropAccessToken or authorization is error",
    20017: "corpAccessToken is missing",
    10006: "appSecret is wrong",
    20006: "appId is wrong",
    20015: "permanentCode is wrong",
    10013: "offset out of range, use _id paging",
    10001: "parameter error",
    30004: "request too frequent",
    -1: "system busy",
    50009: "service timeout",
}


def crm_envelope(code: int, message: str | None = None, **extra: Any) -> dict:
    return {"errorCode": code, "errorMessage": "OK" if code == 0 else (message or CRM_ERRORS.get(code, "error")),
            "errorDescription": "success" if code == 0 else (message or CRM_ERRORS.get(code, "error")),
            "traceId": f"E-O.sandbox.{secrets.token_hex(6)}", **extra}


class Reply:
    """What to send: status, body bytes, headers; `truncate` sends part of the body and closes."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                 truncate: bool = False) -> None:
        self.status, self.body, self.headers, self.truncate = status, body, headers or {}, truncate


def json_reply(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, orjson.dumps(obj), headers)


class PageCache:
    """Serialised pages up to a byte budget. When full it stops adding instead of evicting:
    repeated sequential pulls larger than the budget then still hit on their first part,
    where an LRU would miss on every page."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._d: dict[tuple, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        return self._d.get(key)

    def put(self, key: tuple, body: bytes) -> None:
        with self._lock:
            if key not in self._d and self.used + len(body) <= self.budget:
                self._d[key] = body
                self.used += len(body)

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self.used = 0


class SandboxApp:
    """The request logic, independent of the HTTP plumbing."""

    def __init__(self, world: World, faults: str = "none", token_ttl: int | None = None,
                 truth_path: str | Path | None = None, cache_mb: int = 192) -> None:
        self.world = world
        self.pages = PageCache(cache_mb << 20)
        self.lock = threading.RLock()
        self.engine = Engine(world, self.lock)
        self.faults = FaultPlan(faults, world.seed)
        self.token_ttl = int(token_ttl or TOKEN_TTL)
        self.tokens: dict[str, float] = {}
        self.truth_path = Path(truth_path) if truth_path else None
        self._truth_cache: tuple[int, dict] | None = None
        self.write_truth()

    # --- truth -------------------------------------------------------------------------
    def truth(self) -> dict:
        with self.lock:
            if self._truth_cache is None or self._truth_cache[0] != self.world.epoch:
                self._truth_cache = (self.world.epoch, self.world.truth())
            t = dict(self._truth_cache[1])
        t["faults_served"] = self.faults.counts()
        t["fault_profile"] = self.faults.profile
        return t

    def write_truth(self) -> None:
        if self.truth_path is None:
            return
        data = orjson.dumps(self.truth(), option=orjson.OPT_INDENT_2)
        tmp = self.truth_path.with_suffix(self.truth_path.suffix + ".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(self.truth_path)  # atomic: readers never see half a manifest

    def advance(self) -> dict:
        with self.lock:
            changes = self.world.advance()
            self.engine.cache.clear()
            self.pages.clear()
        self.write_truth()
        return {"epoch": self.world.epoch, "as_of": self.truth()["as_of"], "changes": changes}

    def warm(self, stream: str, page: int = 100) -> int:
        """Serialise a stream's pages of `page` rows ahead of time (until the cache budget is
        used), so a benchmark measures serving rather than the first generation. Returns rows."""
        n, done = self.world.count(stream), 0
        for first in range(0, n, page):
            size = min(page, n - first)
            if self.pages.used + size * 1200 > self.pages.budget:
                break
            self._page(stream, np.arange(first, first + size))
            done += size
        return done

    # --- dispatch ---------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Reply:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        try:
            if path == "/_sandbox/health":
                return json_reply({"status": "ok", "epoch": self.world.epoch})
            if path == "/_sandbox/truth" and method == "GET":
                return json_reply(self.truth())
            if path == "/_sandbox/advance" and method == "POST":
                return json_reply(self.advance())
            if path.startswith("/cgi/"):
                if method != "POST":
                    return json_reply({"message": "use POST"}, 405)
                return self.crm(path, body)
            if path in PATH_TO_STREAM:
                if method != "GET":
                    return json_reply(_hs_error("use GET", "VALIDATION_ERROR"), 405)
                return self.marketing(PATH_TO_STREAM[path], parts.query, headers)
            if path == "/jsonrpc":
                if method != "POST":
                    return json_reply({"message": "use POST"}, 405)
                return self.odoo(body)
        except Exception as exc:  # a bug must show as a 500 with the reason, not a hung client
            return json_reply({"status": "error", "message": f"sandbox error: {exc!r}"}, 500)
        return json_reply({"status": "error", "message": f"no such path {path}"}, 404)

    def _fault_reply(self, source: str, key: str, build: Any) -> Reply:
        """Apply the fault plan around building the real answer."""
        fault: Fault | None = self.faults.decide(source, key)

        def locked_build() -> Reply:
            # One world, mutated by advance(): reads wait for it (generation is GIL-bound anyway).
            with self.lock:
                return build()

        if fault is None:
            return locked_build()
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return locked_build()
        if fault.kind == "truncated":
            reply = locked_build()
            reply.truncate = True
            return reply
        if fault.kind.startswith("http_"):
            status = int(fault.kind[5:])
            headers = {"Retry-After": "1"} if status == 429 else {}
            if source == "marketing" or status != 429:
                body = _hs_error("injected fault", "RATE_LIMITS" if status == 429 else "INTERNAL_ERROR")
            else:
                body = {"message": "Too Many Requests"}
            return json_reply(body, status, headers)
        code = {"crm_rate_limit": 30004, "crm_busy": -1 if "0" < key[-1:] < "5" else 50009,
                "crm_token_expired": 20016}[fault.kind]
        return json_reply(crm_envelope(code))

    # --- CRM -----------------------------------------------------------------------------
    def crm(self, path: str, body: bytes) -> Reply:
        try:
            req = orjson.loads(body or b"{}")
            if not isinstance(req, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            return json_reply(crm_envelope(10001, f"invalid JSON body: {exc}"))
        if path == "/cgi/corpAccessToken/get/V2":
            return self.crm_token(req)
        denied = self._crm_auth(req)
        if denied:
            return denied
        if path == "/cgi/department/list":
            return self._fault_reply("crm", "crm|departments", lambda: json_reply(
                crm_envelope(0, departments=list(self.world.iter_records("crm_departments")))))
        if path == "/cgi/user/list":
            return self._fault_reply("crm", "crm|users", lambda: json_reply(
                crm_envelope(0, userList=list(self.world.iter_records("crm_users")))))
        if path in ("/cgi/crm/v2/data/query", "/cgi/crm/custom/v2/data/query"):
            return self.crm_query(req, custom=path.startswith("/cgi/crm/custom/"))
        return json_reply(crm_envelope(10001, f"unknown interface {path}"))

    def crm_token(self, req: dict) -> Reply:
        if req.get("appId") != CRM_APP_ID:
            return json_reply(crm_envelope(20006))
        if req.get("appSecret") != CRM_APP_SECRET:
            return json_reply(crm_envelope(10006))
        if req.get("permanentCode") != CRM_PERMANENT_CODE:
            return json_reply(crm_envelope(20015))
        token = secrets.token_hex(16).upper()
        with self.lock:
            now = time.time()
            self.tokens = {t: exp for t, exp in self.tokens.items() if exp > now}
            self.tokens[token] = now + self.token_ttl
        return json_reply(crm_envelope(0, corpAccessToken=token, corpId=CRM_CORP_ID, expiresIn=self.token_ttl))

    def _crm_auth(self, req: dict) -> Reply | None:
        token = req.get("corpAccessToken")
        if not token:
            return json_reply(crm_envelope(20017))
        exp = self.tokens.get(token)
        if exp is None or exp <= time.time() or req.get("corpId") != CRM_CORP_ID:
            return json_reply(crm_envelope(20016))
        return None

    def crm_query(self, req: dict, custom: bool) -> Reply:
        data = req.get("data")
        if not isinstance(data, dict):
            return json_reply(crm_envelope(10001, "data is required"))
        api = data.get("dataObjectApiName")
        stream = OBJECT_TO_STREAM.get(api)
        if stream is None:
            return json_reply(crm_envelope(10001, f"unknown dataObjectApiName {api!r}"))
        if (api in CUSTOM_OBJECTS) != custom:
            where = "/cgi/crm/custom/v2/data/query" if api in CUSTOM_OBJECTS else "/cgi/crm/v2/data/query"
            return json_reply(crm_envelope(10001, f"{api} is served at {where}"))
        sq = data.get("search_query_info") or {}
        try:
            offset = int(sq.get("offset", 0))
            limit = int(sq.get("limit", 20))
        except (TypeError, ValueError):
            return json_reply(crm_envelope(10001, "offset and limit must be integers"))
        if limit < 1 or limit > CRM_MAX_LIMIT:
            return json_reply(crm_envelope(10001, f"limit must be between 1 and {CRM_MAX_LIMIT}"))
        if offset < 0 or offset % limit:
            return json_reply(crm_envelope(10001, "offset must be a non-negative multiple of limit"))
        if offset > CRM_MAX_OFFSET:
            return json_reply(crm_envelope(10013))
        filters, orders = sq.get("filters") or [], sq.get("orders") or []
        projection = sq.get("fieldProjection") or []
        want_total = bool(data.get("find_explicit_total_num", False))
        key = "crm|" + orjson.dumps([api, offset, limit, filters, orders]).decode()
        token = req.get("corpAccessToken")

        def build() -> Reply:
            try:
                rows, _ = self.engine.crm_rows(stream, filters, orders)
            except QueryError as exc:
                return json_reply(crm_envelope(exc.code, str(exc)))
            page = rows[offset:offset + limit]
            items = self._page(stream, page, projection)
            total = len(rows) if want_total else 0
            head = orjson.dumps(crm_envelope(0))[:-1]
            tail = f'],"total":{total},"offset":{offset},"limit":{limit}}}}}'.encode()
            return Reply(200, head + b',"data":{"dataList":[' + items + tail)

        reply = self._fault_reply("crm", key, build)
        if b'"errorCode":20016' in reply.body[:40]:
            self.tokens.pop(token, None)  # an expired token stays expired: the client must refresh
        return reply

    def _page(self, stream: str, rows: np.ndarray, projection: list | None = None) -> bytes:
        """The records of `rows` as JSON objects joined by commas (no brackets)."""
        if len(rows) == 0:
            return b""
        w = self.world
        first, n = int(rows[0]), len(rows)
        contiguous = int(rows[-1]) - first == n - 1
        key = (stream, w.epoch, first, n, tuple(projection or ()))
        if contiguous:
            got = self.pages.get(key)
            if got is not None:
                return got
        recs = w.rows_slice(stream, first, n) if contiguous else w.records(stream, rows)
        if projection:
            keep = set(projection) | {"_id", "id"}
            recs = [{k: v for k, v in r.items() if k in keep} for r in recs]
        body = orjson.dumps(recs)[1:-1]  # one dumps per page: 4x cheaper than per record
        if contiguous:
            self.pages.put(key, body)
        return body

    # --- marketing ---------------------------------------------------------------------
    def marketing(self, stream: str, query: str, headers: Any) -> Reply:
        auth = headers.get("Authorization", "") if headers is not None else ""
        if auth != f"Bearer {MKT_TOKEN}":
            return json_reply(_hs_error("Authentication credentials not found.", "INVALID_AUTHENTICATION"), 401)
        q = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        try:
            limit = int(q.get("limit", 10))
            after = _decode_after(q.get("after"))
            updated_after = int(q["updatedAfter"]) if q.get("updatedAfter") not in (None, "") else None
        except ValueError as exc:
            return json_reply(_hs_error(f"invalid query parameter: {exc}", "VALIDATION_ERROR"), 400)
        if limit < 1 or limit > MKT_MAX_LIMIT:
            return json_reply(_hs_error(f"limit must be between 1 and {MKT_MAX_LIMIT}", "VALIDATION_ERROR"), 400)
        archived = q.get("archived", "false").lower() == "true"
        key = f"mkt|{stream}|{after}|{limit}|{updated_after}|{archived}"

        def build() -> Reply:
            rows = self.engine.mkt_rows(stream, updated_after, archived)
            start = int(np.searchsorted(rows, after))
            page = rows[start:start + limit]
            body = b'{"results":[' + self._page(stream, page) + b"]"
            if start + limit < len(rows):
                nxt = _encode_after(int(rows[start + limit]))
                body += b',"paging":{"next":{"after":"' + nxt.encode() + b'"}}'
            return Reply(200, body + b"}")

        return self._fault_reply("marketing", key, build)

    # --- ERP (Odoo JSON-RPC) ---------------------------------------------------------
    def odoo(self, body: bytes) -> Reply:
        try:
            req = orjson.loads(body or b"{}")
            params = req["params"]
            service, method, args = params["service"], params["method"], params.get("args", [])
        except (ValueError, KeyError, TypeError) as exc:
            return json_reply(_odoo_error(None, "werkzeug.exceptions.BadRequest", f"bad JSON-RPC request: {exc}"))
        rid = req.get("id")
        if service == "common":
            if method == "version":
                return json_reply({"jsonrpc": "2.0", "id": rid, "result": {"server_version": "17.0-sandbox"}})
            if method in ("authenticate", "login"):
                ok = len(args) >= 3 and list(args[:3]) == [ODOO_DB, ODOO_LOGIN, ODOO_KEY]
                return json_reply({"jsonrpc": "2.0", "id": rid, "result": ODOO_UID if ok else False})
        if service != "object" or method != "execute_kw":
            return json_reply(_odoo_error(rid, "builtins.NotImplementedError", f"{service}.{method} is not served"))
        if len(args) < 5 or args[0] != ODOO_DB or args[1] != ODOO_UID or args[2] != ODOO_KEY:
            return json_reply(_odoo_error(rid, "odoo.exceptions.AccessDenied", "Access Denied"))
        model, meth = args[3], args[4]
        pos = args[5] if len(args) > 5 and isinstance(args[5], list) else []
        kw = args[6] if len(args) > 6 and isinstance(args[6], dict) else {}
        stream = MODEL_TO_STREAM.get(model)
        if stream is None:
            return json_reply(_odoo_error(rid, "builtins.KeyError", repr(model)))
        domain = pos[0] if pos else kw.get("domain", [])
        if meth not in ("search_read", "search_count"):
            return json_reply(_odoo_error(rid, "builtins.AttributeError",
                                          f"The method '{meth}' does not exist on the model '{model}'"))
        # search_read(domain, fields, offset, limit, order) may come positionally too.
        for i, name in enumerate(("fields", "offset", "limit", "order"), start=1):
            if meth == "search_read" and len(pos) > i and kw.get(name) is None:
                kw = {**kw, name: pos[i]}
        key = "erp|" + orjson.dumps([model, meth, domain, kw.get("offset"), kw.get("limit"), kw.get("order")]).decode()

        def build() -> Reply:
            try:
                rows = self.engine.odoo_rows(stream, domain, kw.get("order"))
                if meth == "search_count":
                    return json_reply({"jsonrpc": "2.0", "id": rid, "result": int(len(rows))})
                offset = int(kw.get("offset") or 0)
                limit = kw.get("limit")
                if not isinstance(limit, int) or limit < 1 or limit > ODOO_MAX_LIMIT:
                    raise QueryError(200, f"the sandbox needs 0 < limit <= {ODOO_MAX_LIMIT} (got {limit!r})")
                fields = kw.get("fields")
                items = self._page(stream, rows[offset:offset + limit], fields)
            except QueryError as exc:
                return json_reply(_odoo_error(rid, "builtins.ValueError", str(exc)))
            head = b'{"jsonrpc":"2.0","id":' + orjson.dumps(rid) + b',"result":['
            return Reply(200, head + items + b"]}")

        return self._fault_reply("erp", key, build)


def _hs_error(message: str, category: str) -> dict:
    return {"status": "error", "message": message, "category": category, "correlationId": secrets.token_hex(8)}


def _odoo_error(rid: Any, name: str, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": 200, "message": "Odoo Server Error",
                                                    "data": {"name": name, "message": message, "arguments": [message],
                                                             "debug": ""}}}


def _encode_after(row: int) -> str:
    return base64.urlsafe_b64encode(f"r{row}".encode()).decode().rstrip("=")


def _decode_after(value: str | None) -> int:
    """`after` is opaque to clients; inside it is the next row position."""
    if not value:
        return 0
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        if not raw.startswith("r"):
            raise ValueError
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"after={value!r} is not a cursor this API returned") from None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "sfa-sandbox/1.0"
    server: SandboxHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the caller's logs matter
        if self.server.verbose:
            super().log_message(format, *args)

    def setup(self) -> None:
        super().setup()
        # Small responses must not wait for Nagle + delayed ACK (40 ms per page otherwise).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.app.handle(method, self.path, self.headers, body)
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in reply.headers.items():
            self.send_header(k, v)
        if reply.truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        payload = reply.body[: max(1, len(reply.body) // 2)] if reply.truncate else reply.body
        # Headers and body in one write: one segment per page on keep-alive connections.
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(payload)
        self.wfile.write(b"".join(self._headers_buffer))
        self._headers_buffer = []
        self.wfile.flush()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], app: SandboxApp, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        super().__init__(addr, Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def make_server(world: World, host: str = "127.0.0.1", port: int = 0, faults: str = "none",
                token_ttl: int | None = None, truth_path: str | Path | None = None,
                verbose: bool = False, cache_mb: int = 192) -> SandboxHTTPServer:
    app = SandboxApp(world, faults=faults, token_ttl=token_ttl, truth_path=truth_path, cache_mb=cache_mb)
    return SandboxHTTPServer((host, port), app, verbose=verbose)
