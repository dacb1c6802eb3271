"""A minimal reference client of the sandbox: full or incremental pulls of any raw table.

Used by the sandbox's own tests and by bench_serve.py; it is deliberately plain (one retry
loop, no state) so it can check the server, not replace the extractors in extractors/.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson
import requests

from . import timefmt as T
from .server import CRM_APP_ID, CRM_APP_SECRET, CRM_PERMANENT_CODE, MKT_TOKEN, ODOO_DB, ODOO_KEY, ODOO_LOGIN
from .wire_crm import API_NAMES, CUSTOM_OBJECTS
from .wire_erp import MODELS
from .wire_mkt import PATHS

CRM_RETRY = {-1, 50009, 30004, 14001}


class RetryExhausted(RuntimeError):
    pass


class _LeanSession:
    """http.client keep-alive transport with the few `requests` features used here: for
    benchmarks, where the client must cost less than the server it measures."""

    class _Resp:
        def __init__(self, status: int, headers: Any, content: bytes) -> None:
            self.status_code, self.headers, self.content = status, headers, content

        def raise_for_status(self) -> None:
            if self.status_code >= 400:
                raise requests.HTTPError(f"HTTP {self.status_code}")

    def __init__(self, url: str, timeout: float) -> None:
        u = urlsplit(url)
        self.host, self.port, self.timeout = u.hostname, u.port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, url: str, timeout: float | None = None, json: Any = None,
                params: dict | None = None, headers: dict | None = None) -> _Resp:
        path = urlsplit(url).path + ("?" + urlencode(params) if params else "")
        body = orjson.dumps(json) if json is not None else None
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.request(method, path, body, hdrs)
            r = self.conn.getresponse()
            content = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return self._Resp(r.status, dict(r.getheaders()), content)
        except (http.client.HTTPException, OSError) as exc:
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            raise requests.ConnectionError(str(exc)) from exc


class SandboxClient:
    def __init__(self, url: str, max_attempts: int = 12, max_sleep: float = 1.0, timeout: float = 60,
                 lean: bool = False) -> None:
        self.url = url.rstrip("/")
        self.s: Any = _LeanSession(self.url, timeout) if lean else requests.Session()
        self.max_attempts = max_attempts
        self.max_sleep = max_sleep
        self.timeout = timeout
        self.token: dict[str, str] | None = None
        self.attempts = 0  # requests sent, retries included
        self.uid: int | None = None

    # --- transport with retries ------------------------------------------------------------
    def _send(self, method: str, path: str, retry_codes: bool = True, **kw: Any) -> Any:
        for attempt in range(self.max_attempts):
            self.attempts += 1
            try:
                r = self.s.request(method, self.url + path, timeout=self.timeout, **kw)
                if r.status_code == 429 or r.status_code >= 500:
                    wait = float(r.headers.get("Retry-After") or 0.05)
                    time.sleep(min(wait, self.max_sleep))
                    continue
                r.raise_for_status()
                return orjson.loads(r.content)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ValueError):
                time.sleep(0.01 * (attempt + 1))
                continue
        raise RetryExhausted(f"{method} {path}: no answer after {self.max_attempts} attempts")

    # --- CRM ----------------------------------------------------------------------------------
    def crm_token(self) -> dict[str, str]:
        body = {"appId": CRM_APP_ID, "appSecret": CRM_APP_SECRET, "permanentCode": CRM_PERMANENT_CODE}
        ans = self._send("POST", "/cgi/corpAccessToken/get/V2", json=body)
        if ans.get("errorCode") != 0:
            raise RuntimeError(f"token refused: {ans}")
        self.token = {"corpAccessToken": ans["corpAccessToken"], "corpId": ans["corpId"],
                      "currentOpenUserId": "FSUID_00000000000000000000000000000000"}
        return self.token

    def crm_call(self, path: str, payload: dict) -> dict:
        for _ in range(self.max_attempts):
            if self.token is None:
                self.crm_token()
            ans = self._send("POST", path, json={**self.token, **payload})
            code = ans.get("errorCode")
            if code == 0:
                return ans
            if code == 20016:
                self.token = None
                continue
            if code in CRM_RETRY:
                time.sleep(0.02)
                continue
            return ans  # a real error: the caller looks at it
        raise RetryExhausted(f"{path}: still failing after {self.max_attempts} attempts")

    def crm_query(self, api: str, sq: dict, total: bool = True) -> dict:
        path = "/cgi/crm/custom/v2/data/query" if api in CUSTOM_OBJECTS else "/cgi/crm/v2/data/query"
        return self.crm_call(path, {"data": {"dataObjectApiName": api, "find_explicit_total_num": total,
                                             "search_query_info": sq}})

    def crm_pages(self, stream: str, filters: list | None = None, limit: int = 100) -> Iterator[list[dict]]:
        """`_id GT` cursor paging ordered by `_id` (the documented deep/incremental way)."""
        api = API_NAMES[stream]
        last = None
        while True:
            f = list(filters or [])
            if last is not None:
                f.append({"field_name": "_id", "operator": "GT", "field_values": [last]})
            ans = self.crm_query(api, {"offset": 0, "limit": limit, "filters": f,
                                       "orders": [{"fieldName": "_id", "isAsc": True}]}, total=False)
            if ans["errorCode"] != 0:
                raise RuntimeError(f"{stream}: {ans}")
            rows = ans["data"]["dataList"]
            if rows:
                yield rows
                last = rows[-1]["_id"]
            if len(rows) < limit:
                return

    # --- marketing ----------------------------------------------------------------------------
    def mkt_pages(self, stream: str, updated_after: int | None = None, archived: bool = True,
                  limit: int = 100) -> Iterator[list[dict]]:
        after = None
        while True:
            params: dict[str, Any] = {"limit": limit, "archived": "true" if archived else "false"}
            if updated_after is not None:
                params["updatedAfter"] = updated_after
            if after:
                params["after"] = after
            ans = self._send("GET", PATHS[stream], params=params, headers={"Authorization": f"Bearer {MKT_TOKEN}"})
            if ans.get("results"):
                yield ans["results"]
            after = ((ans.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    # --- ERP ----------------------------------------------------------------------------------
    def rpc(self, service: str, method: str, args: list) -> dict:
        body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": service, "method": method,
                                                                          "args": args}}
        return self._send("POST", "/jsonrpc", json=body)

    def execute_kw(self, model: str, method: str, args: list, kwargs: dict | None = None) -> dict:
        if self.uid is None:
            self.uid = self.rpc("common", "authenticate", [ODOO_DB, ODOO_LOGIN, ODOO_KEY, {}])["result"]
        return self.rpc("object", "execute_kw", [ODOO_DB, self.uid, ODOO_KEY, model, method, args, kwargs or {}])

    def erp_pages(self, stream: str, domain: list | None = None, order: str = "id asc",
                  limit: int = 1000) -> Iterator[list[dict]]:
        offset = 0
        while True:
            ans = self.execute_kw(MODELS[stream], "search_read", [domain or []],
                                  {"offset": offset, "limit": limit, "order": order})
            if "error" in ans:
                raise RuntimeError(f"{stream}: {ans['error']}")
            rows = ans["result"]
            if rows:
                yield rows
            if len(rows) < limit:
                return
            offset += limit

    # --- any stream ---------------------------------------------------------------------------
    def pages(self, stream: str, since_ms: int | None = None) -> Iterator[list[dict]]:
        """Full pull (since_ms None) or the records modified after `since_ms`."""
        if stream == "crm_departments":
            yield self.crm_call("/cgi/department/list", {})["departments"]
        elif stream == "crm_users":
            yield self.crm_call("/cgi/user/list", {"departmentId": 999999, "fetchChild": True})["userList"]
        elif stream in API_NAMES:
            f = [] if since_ms is None else [{"field_name": "last_modified_time", "operator": "GT",
                                              "field_values": [since_ms]}]
            yield from self.crm_pages(stream, f)
        elif stream in PATHS:
            yield from self.mkt_pages(stream, None if since_ms is None else since_ms + 1)
        elif stream in MODELS:
            if since_ms is None:
                yield from self.erp_pages(stream)
            else:
                since = T.odoo_datetime([since_ms])[0]
                yield from self.erp_pages(stream, [["write_date", ">", since]], "write_date asc, id asc")
        else:
            raise KeyError(stream)

    def pull(self, stream: str, since_ms: int | None = None) -> list[dict]:
        return [r for page in self.pages(stream, since_ms) for r in page]


__all__ = ["RetryExhausted", "SandboxClient"]
