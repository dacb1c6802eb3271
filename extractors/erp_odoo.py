"""Odoo JSON-RPC client: `common.authenticate`, then `object.execute_kw` `search_read`.

Incremental reads filter `write_date >= since` ordered `write_date asc, id asc` with offset
paging. Because rows come in cursor order, a restart resumes from the last committed
`write_date` (rows sharing it are read again and dropped as duplicates by the engine).
JSON-RPC `error` objects arrive with HTTP 200: access errors stop, busy/lock errors retry.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from extractors.config import ExtractConfig
from extractors.connector import ConfigurationError, Page
from extractors.http import HttpClient, RetryableError, SourceError
from extractors.streams import Stream

RETRYABLE_ERROR_NAMES = ("SerializationFailure", "LockNotAvailable", "TransactionRollbackError")


def _check(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise RetryableError("answer is not a JSON-RPC object")
    error = payload.get("error")
    if error is None:
        if "result" not in payload:
            raise RetryableError("JSON-RPC answer without result or error")
        return
    data = error.get("data") or {}
    name = str(data.get("name") or "")
    message = f"JSON-RPC error {error.get('code')}: {error.get('message')} [{name}] {data.get('message', '')}"
    if name.endswith("AccessDenied") or name.endswith("AccessError"):
        raise ConfigurationError(f"Odoo refused access ({message}); check ODOO_DB, ODOO_LOGIN, ODOO_API_KEY")
    if any(part in name for part in RETRYABLE_ERROR_NAMES):
        raise RetryableError(message)
    raise SourceError(message)


class OdooClient:
    def __init__(self, config: ExtractConfig, env: Mapping[str, str] | None = None):
        self.config = config.erp
        self.http = HttpClient("erp", config.base_url("erp"), config.erp)
        self._db = config.secret("ODOO_DB", env)
        self._login = config.secret("ODOO_LOGIN", env)
        self._key = config.secret("ODOO_API_KEY", env)
        self._ids = itertools.count(1)
        self._uid: int | None = None

    def close(self) -> None:
        self.http.close()

    def _rpc(self, service: str, method: str, args: list, what: str) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": args},
        }
        return self.http.request_json("POST", "/jsonrpc", json=body, check=_check, what=what)["result"]

    def uid(self) -> int:
        if self._uid is None:
            db, login, key = (s.get_secret_value() for s in (self._db, self._login, self._key))
            uid = self._rpc("common", "authenticate", [db, login, key, {}], "authenticate")
            if not uid:
                raise ConfigurationError("Odoo login failed; check ODOO_DB, ODOO_LOGIN, ODOO_API_KEY")
            self._uid = int(uid)
        return self._uid

    def execute_kw(self, model: str, method: str, args: list, kwargs: dict, what: str) -> Any:
        uid = self.uid()
        db, key = self._db.get_secret_value(), self._key.get_secret_value()
        return self._rpc("object", "execute_kw", [db, uid, key, model, method, args, kwargs], what)

    def read(self, stream: Stream, since: str | None, resume: dict | None) -> Iterator[Page]:
        if resume and resume.get("write_date_from"):
            if since is None or resume["write_date_from"] > since:
                since = resume["write_date_from"]
        domain: list = [list(term) for term in stream.domain]
        if since is not None:
            domain.append([stream.cursor_field, ">=", since])
        limit = self.config.page_size
        offset = 0
        while True:
            kwargs = {
                "fields": list(stream.fields),
                "offset": offset,
                "limit": limit,
                "order": f"{stream.cursor_field} asc, id asc",
                # Archived partners/products are our tombstones: Odoo hides them by default.
                "context": {"active_test": False},
            }
            records = self.execute_kw(
                stream.object_name or "", "search_read", [domain], kwargs,
                what=f"{stream.table} offset {offset}",
            )  # fmt: skip
            offset += len(records)
            position = {"write_date_from": records[-1].get(stream.cursor_field)} if records else None
            yield Page(records, position)
            if len(records) < limit:
                return
