"""What every API client hands the extraction engine: pages plus where to resume after each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from extractors.streams import CursorType, Stream


@dataclass
class Page:
    records: list[dict]
    # Where a restarted run continues after this page (JSON-able), or None when it need not:
    # the engine commits it with the rows of the page, in the same transaction.
    position: dict[str, Any] | None


class ConfigurationError(Exception):
    """Credentials or settings are wrong: retrying cannot help; fix the config or env vars."""


class QuotaExhausted(Exception):
    """The source's daily quota is used up (or none was bought): stop until it resets."""


class Connector(Protocol):
    def read(self, stream: Stream, since: str | None, resume: dict | None) -> Iterator[Page]:
        """Pages of `stream` with cursor >= `since` (all when None), continuing at `resume`."""
        ...

    def close(self) -> None: ...


def shift_cursor(text: str, cursor_type: CursorType, seconds: float) -> str:
    """The cursor `seconds` earlier, in the same text form (the overlap window)."""
    if cursor_type == "epoch_ms":
        return str(int(float(text)) - int(seconds * 1000))
    if cursor_type == "odoo_datetime":
        moment = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S") - dt.timedelta(seconds=seconds)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    moment = parse_iso(text) - dt.timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def iso_to_epoch_ms(text: str) -> int:
    return int(parse_iso(text).timestamp() * 1000)
