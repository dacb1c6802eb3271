"""The sandbox clock (fixed, never the wall clock) and vectorised wire formats for times."""

from __future__ import annotations

import datetime as dt

import numpy as np

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
TZ_OFFSET_MS = 8 * HOUR_MS

# The world at epoch 0 ends here (contract); history starts 24 months earlier.
AS_OF0 = dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI)
START = dt.datetime(2024, 11, 1, tzinfo=SHANGHAI)
AS_OF0_MS = int(AS_OF0.timestamp() * 1000)
START_MS = int(START.timestamp() * 1000)
HISTORY_DAYS = (AS_OF0_MS - START_MS) // DAY_MS + 1  # 730 calendar days
EPOCH_STEP_MS = DAY_MS  # each advance moves as_of one day forward

# Chinese New Year dates inside the history (lead intake dips around them).
CNY_DAYS_MS = [
    int(dt.datetime(2025, 1, 29, tzinfo=SHANGHAI).timestamp() * 1000),
    int(dt.datetime(2026, 2, 17, tzinfo=SHANGHAI).timestamp() * 1000),
]


def as_of_ms(epoch: int) -> int:
    return AS_OF0_MS + epoch * EPOCH_STEP_MS


def ms_to_iso(ms: int) -> str:
    """ISO-8601 in Asia/Shanghai, e.g. `2026-10-31T23:59:59+08:00` (the contract's as_of form)."""
    return dt.datetime.fromtimestamp(ms / 1000, SHANGHAI).isoformat(timespec="seconds")


def iso_utc(ms: np.ndarray) -> list[str]:
    """HubSpot style `2026-10-31T15:59:59.000Z`."""
    s = np.datetime_as_string(np.asarray(ms, dtype=np.int64).astype("datetime64[ms]"), unit="ms")
    return [x + "Z" for x in s.tolist()]


def odoo_datetime(ms: np.ndarray) -> list[str]:
    """Odoo `YYYY-MM-DD HH:MM:SS` in UTC."""
    s = np.datetime_as_string((np.asarray(ms, dtype=np.int64) // 1000).astype("datetime64[s]"), unit="s")
    return [x.replace("T", " ") for x in s.tolist()]


def shanghai_date(ms: np.ndarray) -> list[str]:
    """`YYYY-MM-DD` of the Asia/Shanghai calendar day containing each instant."""
    days = (np.asarray(ms, dtype=np.int64) + TZ_OFFSET_MS) // DAY_MS
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()


def shanghai_midnight(ms: np.ndarray) -> np.ndarray:
    """Epoch ms of midnight Asia/Shanghai of the day containing each instant (CRM date fields)."""
    ms = np.asarray(ms, dtype=np.int64)
    return (ms + TZ_OFFSET_MS) // DAY_MS * DAY_MS - TZ_OFFSET_MS


def shanghai_month(ms: np.ndarray) -> list[str]:
    days = (np.asarray(ms, dtype=np.int64) + TZ_OFFSET_MS) // DAY_MS
    return np.datetime_as_string(days.astype("datetime64[D]").astype("datetime64[M]"), unit="M").tolist()


def odoo_to_ms(text: str) -> int:
    """Parse an Odoo datetime or date string (UTC) to epoch ms."""
    text = text.strip()
    fmt = "%Y-%m-%d %H:%M:%S" if len(text) > 10 else "%Y-%m-%d"
    return int(dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC).timestamp() * 1000)
