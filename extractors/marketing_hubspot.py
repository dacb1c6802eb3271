"""HubSpot-style marketing client: Bearer token, `after` cursor paging, `updatedAfter`.

Tombstones come back because we always ask with `archived=true`; 429 with Retry-After and 5xx
are retried by the HTTP layer; other 4xx stop with the server's message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from extractors.config import ExtractConfig
from extractors.connector import ConfigurationError, Page, iso_to_epoch_ms
from extractors.http import HttpClient, SourceError
from extractors.streams import Stream

log = logging.getLogger(__name__)


class HubSpotClient:
    def __init__(self, config: ExtractConfig, env: Mapping[str, str] | None = None):
        self.config = config.marketing
        token = config.secret("HUBSPOT_ACCESS_TOKEN", env)
        self.http = HttpClient(
            "marketing",
            config.base_url("marketing"),
            config.marketing,
            headers={"Authorization": f"Bearer {token.get_secret_value()}"},
        )

    def close(self) -> None:
        self.http.close()

    def read(self, stream: Stream, since: str | None, resume: dict | None) -> Iterator[Page]:
        after = (resume or {}).get("after")
        resuming = after is not None
        params: dict[str, Any] = {"limit": self.config.page_size, "archived": "true", **stream.request}
        if since is not None:
            params["updatedAfter"] = iso_to_epoch_ms(since)
        while True:
            page_params = dict(params)
            if after is not None:
                page_params["after"] = after
            try:
                answer = self.http.request_json(
                    "GET", stream.endpoint, params=page_params, what=f"{stream.table} after {after}"
                )
            except SourceError as exc:
                if exc.status in (401, 403):
                    raise ConfigurationError(
                        f"marketing API rejected the token ({exc}); check HUBSPOT_ACCESS_TOKEN"
                    ) from exc
                if resuming and exc.status == 400:
                    # The saved `after` cursor expired: start the window again (the engine
                    # drops what was already landed).
                    log.warning("%s: saved cursor refused (%s); re-reading from %s", stream.table, exc, since)
                    after, resuming = None, False
                    continue
                raise
            resuming = False
            records = answer.get("results") or []
            after = (((answer.get("paging") or {}).get("next")) or {}).get("after")
            yield Page(records, {"after": after} if after is not None else None)
            if after is None:
                return
