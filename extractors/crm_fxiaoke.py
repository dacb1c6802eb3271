"""Fxiaoke (纷享销客) OpenAPI v2 client: token, errorCode handling, `_id`-cursor paging.

Wire shape: /work/shared/spec/FXIAOKE_API.md. Every call is a POST whose answer is HTTP 200
with an `errorCode`; the HTTP layer retries transport faults, `_check` maps error codes:
busy/rate-limited codes are retried with backoff (there is no Retry-After), 20016 (token
expired) refreshes the token and retries once, configuration and quota codes stop at once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from extractors.config import ExtractConfig
from extractors.connector import ConfigurationError, Page, QuotaExhausted
from extractors.http import HttpClient, RetryableError, SourceError
from extractors.streams import Stream

TOKEN_PATH = "/cgi/corpAccessToken/get/V2"
RETRY_CODES = {-1: "system busy", 50009: "service timeout", 30004: "rate limited", 14001: "rate limited"}
CONFIG_CODES = {
    10006: "bad appSecret",
    20006: "bad appId",
    20015: "bad permanentCode",
    20017: "no corpAccessToken given",
}
QUOTA_CODES = {30002: "daily quota used up", 30003: "no API quota bought"}
TOKEN_EXPIRED = 20016
TOKEN_REFRESHES = 3


class TokenExpired(SourceError):
    pass


def _check(payload: Any) -> None:
    if not isinstance(payload, dict) or "errorCode" not in payload:
        raise RetryableError("answer without errorCode (not a Fxiaoke envelope)")
    code = payload["errorCode"]
    if code == 0:
        return
    message = f"errorCode {code}: {payload.get('errorMessage', '')} (traceId {payload.get('traceId')})"
    if code in RETRY_CODES:
        raise RetryableError(f"{RETRY_CODES[code]}, {message}")
    if code == TOKEN_EXPIRED:
        raise TokenExpired(message)
    if code in CONFIG_CODES:
        raise ConfigurationError(
            f"Fxiaoke rejected the credentials ({CONFIG_CODES[code]}): {message}; check "
            "FXIAOKE_APP_ID, FXIAOKE_APP_SECRET, FXIAOKE_PERMANENT_CODE"
        )
    if code in QUOTA_CODES:
        raise QuotaExhausted(f"Fxiaoke {QUOTA_CODES[code]}: {message}")
    raise SourceError(f"Fxiaoke error {message}")


class FxiaokeClient:
    def __init__(self, config: ExtractConfig, env: Mapping[str, str] | None = None):
        self.config = config.crm
        self.http = HttpClient(
            "crm", config.base_url("crm"), config.crm, rate_limit_per_second=config.rate_limit("crm")
        )
        self._credentials = {
            "appId": config.secret("FXIAOKE_APP_ID", env),
            "appSecret": config.secret("FXIAOKE_APP_SECRET", env),
            "permanentCode": config.secret("FXIAOKE_PERMANENT_CODE", env),
        }
        env = os.environ if env is None else env
        self.open_user_id = env.get("FXIAOKE_OPEN_USER_ID") or self.config.current_open_user_id
        self._lock = threading.Lock()
        self._token: str | None = None
        self._corp_id: str | None = None
        self._refresh_at = 0.0
        self.tokens_fetched = 0

    def close(self) -> None:
        self.http.close()

    # -- token -------------------------------------------------------------------------------
    def _fetch_token(self) -> None:
        body = {k: v.get_secret_value() for k, v in self._credentials.items()}
        answer = self.http.request_json("POST", TOKEN_PATH, json=body, check=_check, what="token")
        ttl = float(answer.get("expiresIn") or 7200)
        margin = min(self.config.token_refresh_margin_seconds, ttl * 0.1)
        self._token = answer["corpAccessToken"]
        self._corp_id = answer.get("corpId")
        self._refresh_at = time.monotonic() + ttl - margin
        self.tokens_fetched += 1

    def _auth(self, force: bool = False) -> dict[str, Any]:
        with self._lock:
            if force or self._token is None or time.monotonic() >= self._refresh_at:
                self._fetch_token()
            auth: dict[str, Any] = {"corpAccessToken": self._token, "corpId": self._corp_id}
        if self.open_user_id:
            auth["currentOpenUserId"] = self.open_user_id
        return auth

    def call(self, path: str, body: dict[str, Any], what: str = "") -> dict[str, Any]:
        """POST with the token in the body; on 20016 fetch a new token and retry.

        Normally once; a token that is refused again right after a refresh is retried up to
        `TOKEN_REFRESHES` times (a gateway can drop fresh tokens too) before giving up.
        """
        auth = self._auth()
        for refresh in range(TOKEN_REFRESHES + 1):
            try:
                return self.http.request_json("POST", path, json={**auth, **body}, check=_check, what=what)
            except TokenExpired:
                if refresh == TOKEN_REFRESHES:
                    raise
                auth = self._auth(force=True)
        raise AssertionError("unreachable")

    # -- streams -----------------------------------------------------------------------------
    def read(self, stream: Stream, since: str | None, resume: dict | None) -> Iterator[Page]:
        if stream.kind == "crm_directory":
            answer = self.call(stream.endpoint, dict(stream.request), what=stream.table)
            yield Page(list(answer.get(stream.list_key or "", None) or []), None)
            return
        yield from self._query(stream, since, (resume or {}).get("after_id"))

    def _query(self, stream: Stream, since: str | None, after_id: str | None) -> Iterator[Page]:
        limit = self.config.page_size
        base_filters = []
        if since is not None:
            base_filters.append(
                {"field_name": stream.cursor_field, "field_values": [int(since)], "operator": "GTE"}
            )
        while True:
            filters = list(base_filters)
            if after_id is not None:
                filters.append({"field_name": "_id", "field_values": [after_id], "operator": "GT"})
            body = {
                "data": {
                    "dataObjectApiName": stream.object_name,
                    "find_explicit_total_num": False,
                    "search_query_info": {
                        "offset": 0,
                        "limit": limit,
                        "filters": filters,
                        "orders": [{"fieldName": "_id", "isAsc": True}],
                        "fieldProjection": [],
                    },
                }
            }
            answer = self.call(stream.endpoint, body, what=f"{stream.table} after {after_id}")
            records = (answer.get("data") or {}).get("dataList") or []
            if records:
                after_id = records[-1]["_id"]
            yield Page(records, {"after_id": after_id})
            if len(records) < limit:
                return
