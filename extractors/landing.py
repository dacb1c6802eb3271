"""The one writer into the raw layer: pages of source records -> append-only DuckDB tables.

Records are kept whole as JSON (see docs/source_contract.md section 4), so schema drift
never loses a field; only the load metadata and the key, cursor and tombstone are columns.
A batch is written in one transaction together with its cursor, so state never runs ahead
of the data it covers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import orjson
import pyarrow as pa

RAW_SCHEMA = "raw"

RAW_COLUMNS = pa.schema(
    [
        ("_source", pa.string()),
        ("_stream", pa.string()),
        ("_batch_id", pa.string()),
        ("_extracted_at", pa.timestamp("us")),
        ("_record_id", pa.string()),
        ("_cursor", pa.string()),
        ("_deleted", pa.bool_()),
        # Arrow's JSON extension type: DuckDB takes it as JSON without parsing every record
        # again (orjson wrote it, so it is valid by construction).
        ("_record", pa.json_()),
    ]
)

RAW_DDL = """
create table if not exists {schema}.{table} (
    _source varchar not null,
    _stream varchar not null,
    _batch_id varchar not null,
    _extracted_at timestamp not null,
    _record_id varchar not null,
    _cursor varchar,
    _deleted boolean not null,
    _record json not null
)
"""


@dataclass(frozen=True)
class RecordKeys:
    """How to read a stream's key, cursor and tombstone out of one record."""

    record_id: Callable[[dict], object]
    cursor: Callable[[dict], object]
    deleted: Callable[[dict], bool]


def new_batch_id(run_id: str | None = None, seq: int = 0) -> str:
    """`<run id>-<seq>` inside a run (so a run's batches share a prefix), else a fresh id."""
    return f"{run_id}-{seq:05d}" if run_id else uuid.uuid4().hex


def new_run_id() -> str:
    return uuid.uuid4().hex[:16]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _repeat(value: object, n: int, type_: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, type_), n)


_EPOCH = dt.datetime(1970, 1, 1)


def page_to_arrow(
    records: Sequence[dict],
    *,
    source: str,
    stream: str,
    batch_id: str,
    keys: RecordKeys,
    extracted_at: dt.datetime | None = None,
) -> pa.Table:
    """Columnar build: a handful of flat arrays beat Table.from_pylist on wide dicts."""
    n = len(records)
    at = extracted_at or utc_now()
    # Integer microseconds: converting datetime objects makes pyarrow import pandas (seconds).
    micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
    dumps = orjson.dumps
    record_id, cursor, deleted = keys.record_id, keys.cursor, keys.deleted
    return pa.Table.from_arrays(
        [
            _repeat(source, n, pa.string()),
            _repeat(stream, n, pa.string()),
            _repeat(batch_id, n, pa.string()),
            _repeat(micros, n, pa.int64()).cast(pa.timestamp("us")),
            pa.array([_text(record_id(r)) for r in records], pa.string()),
            pa.array([_text(cursor(r)) for r in records], pa.string()),
            pa.array([bool(deleted(r)) for r in records], pa.bool_()),
            # bytes -> binary -> string: decoding to Python str and re-encoding costs 4x more.
            pa.array([dumps(r) for r in records], pa.binary()).cast(pa.string()).cast(pa.json_()),
        ],
        schema=RAW_COLUMNS,
    )


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(RAW_DDL.format(schema=RAW_SCHEMA, table=table))


def append_arrow(con: duckdb.DuckDBPyConnection, table: str, batch: pa.Table) -> int:
    """Append one Arrow batch; the caller owns the transaction."""
    if batch.num_rows == 0:
        return 0
    con.register("_landing_batch", batch)
    try:
        con.execute(
            f"insert into {RAW_SCHEMA}.{table} "
            "select _source, _stream, _batch_id, _extracted_at, _record_id, _cursor, _deleted, "
            "_record::json from _landing_batch"
        )
    finally:
        con.unregister("_landing_batch")
    return batch.num_rows


_INSERT_COLUMNS = (
    "s._source, s._stream, s._batch_id, s._extracted_at, s._record_id, s._cursor, s._deleted, "
    "s._record::json"
)


def append_new_versions(
    con: duckdb.DuckDBPyConnection,
    table: str,
    batch: pa.Table,
    *,
    by_content: bool = False,
    run_id: str | None = None,
    compare: bool = True,
) -> int:
    """Append the record versions that earlier runs have not landed; the caller owns the transaction.

    A version is (record id, cursor) for incremental streams, so overlap re-reads, resumed
    runs and full refreshes never double a row, while a late update (new cursor) still lands.
    Snapshot streams have no cursor: a row lands when its content differs from the latest
    version landed by an earlier run (`by_content`). Rows of the current run (batch ids that
    start with `run_id`) are not compared: within one run the source's answer lands exactly as
    received, repeats included, so the quality layer sees the source's own duplicates.
    """
    if batch.num_rows == 0:
        return 0
    target = f"{RAW_SCHEMA}.{table}"
    if not compare:  # the caller knows no earlier run landed anything in this table
        return append_arrow(con, table, batch)
    earlier = "true" if run_id is None else "not starts_with(_batch_id, $run_id)"
    params = {} if run_id is None else {"run_id": run_id}
    con.register("_landing_batch", batch)
    try:
        if by_content:
            sql = (
                f"insert into {target} select {_INSERT_COLUMNS} from _landing_batch s "
                "where not exists (select 1 from (select _record_id, _record::varchar as body "
                f"from {target} where {earlier} qualify row_number() over (partition by _record_id "
                "order by _extracted_at desc, _batch_id desc) = 1) r "
                "where r._record_id = s._record_id and r.body = s._record::json::varchar)"
            )
        else:
            sql = (
                f"insert into {target} select {_INSERT_COLUMNS} from _landing_batch s "
                f"where not exists (select 1 from {target} r where r._record_id = s._record_id "
                f"and r._cursor is not distinct from s._cursor and {earlier})"
            )
        row = con.execute(sql, params).fetchone() if params else con.execute(sql).fetchone()
    finally:
        con.unregister("_landing_batch")
    return int(row[0]) if row else 0


def land_records(
    con: duckdb.DuckDBPyConnection,
    table: str,
    pages: Iterable[Sequence[dict]],
    *,
    source: str,
    keys: RecordKeys,
    batch_id: str | None = None,
) -> int:
    """Land an iterable of pages in one transaction; returns rows written."""
    ensure_raw_table(con, table)
    batch_id = batch_id or new_batch_id()
    written = 0
    con.execute("begin")
    try:
        for page in pages:
            written += append_arrow(
                con,
                table,
                page_to_arrow(page, source=source, stream=table, batch_id=batch_id, keys=keys),
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written
