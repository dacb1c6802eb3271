"""Incremental state kept in the warehouse itself (`raw._cursors`), one row per stream.

`cursor` is the high-water mark of the last *completed* run; `checkpoint` is where an
unfinished run stands (its lower bound, its paging position, the highest cursor it has seen).
Both are written by `save_state` inside the caller's transaction, the same one that appends
the rows they cover, so a kill at any point leaves data and state consistent: the rerun
continues from the checkpoint, and anything read twice is dropped by the landing dedup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import orjson

from extractors.landing import RAW_SCHEMA, utc_now

CURSORS_TABLE = f"{RAW_SCHEMA}._cursors"

CURSORS_DDL = f"""
create table if not exists {CURSORS_TABLE} (
    stream varchar not null,
    cursor varchar,
    checkpoint varchar,
    updated_at timestamp not null,
    batch_id varchar
)
"""


@dataclass
class StreamState:
    cursor: str | None = None  # committed watermark of completed runs
    checkpoint: dict[str, Any] | None = None  # {"since", "position", "run_max"} of an unfinished run


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(CURSORS_DDL)


def load_state(con: duckdb.DuckDBPyConnection, stream: str) -> StreamState:
    ensure_state_table(con)
    row = con.execute(
        f"select cursor, checkpoint from {CURSORS_TABLE} where stream = ? "
        "order by updated_at desc limit 1",
        [stream],
    ).fetchone()
    if row is None:
        return StreamState()
    return StreamState(cursor=row[0], checkpoint=orjson.loads(row[1]) if row[1] else None)


def save_state(
    con: duckdb.DuckDBPyConnection, stream: str, state: StreamState, batch_id: str | None
) -> None:
    """Replace the stream's row; the caller owns the transaction (no PK: delete + insert)."""
    con.execute(f"delete from {CURSORS_TABLE} where stream = ?", [stream])
    con.execute(
        f"insert into {CURSORS_TABLE} values (?, ?, ?, ?, ?)",
        [
            stream,
            state.cursor,
            orjson.dumps(state.checkpoint).decode() if state.checkpoint is not None else None,
            utc_now(),
            batch_id,
        ],
    )


def reset_state(con: duckdb.DuckDBPyConnection, stream: str) -> None:
    ensure_state_table(con)
    con.execute(f"delete from {CURSORS_TABLE} where stream = ?", [stream])
