"""The extraction engine: stream table + connector + landing + state, one call per stream.

`extract_stream` reads pages from the stream's connector (fetched ahead on a thread while the
previous ones are landed), turns them into Arrow batches and, every `commit_rows` rows,
appends the new record versions to `raw.<table>` and saves the cursor/checkpoint in ONE
DuckDB transaction. The warehouse connection is opened per call and closed at the end
(DuckDB allows a single writer per file).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from extractors import landing, warehouse
from extractors.config import ExtractConfig, load_config
from extractors.connector import Connector, Page, shift_cursor
from extractors.crm_fxiaoke import FxiaokeClient
from extractors.drift import SchemaObserver, drift_report, load_reference, save_observed
from extractors.erp_odoo import OdooClient
from extractors.marketing_hubspot import HubSpotClient
from extractors.state import StreamState, load_state, save_state
from extractors.streams import Stream, cursor_sort_key, get_stream, record_keys, streams_of

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (stream, rows read so far, rows landed so far)

CLIENTS: dict[str, type] = {"crm": FxiaokeClient, "marketing": HubSpotClient, "erp": OdooClient}


class ExtractionError(Exception):
    """A stream stopped; names the stream and the last cursor committed for it."""

    def __init__(self, stream: str, cursor: str | None, checkpoint: dict | None, cause: BaseException):
        where = f"last committed cursor {cursor!r}"
        if checkpoint:
            where += f", resume checkpoint {checkpoint}"
        super().__init__(f"stream {stream}: {type(cause).__name__}: {cause} ({where})")
        self.stream = stream
        self.cursor = cursor
        self.checkpoint = checkpoint
        self.cause = cause


@dataclass
class ExtractResult:
    stream: str
    source: str
    rows_read: int = 0
    rows_landed: int = 0
    pages: int = 0
    requests: int = 0
    cursor_before: str | None = None
    cursor_after: str | None = None
    seconds: float = 0.0
    full_refresh: bool = False
    resumed: bool = False
    drift: dict[str, Any] = field(default_factory=dict)  # drift_report() when drifted, else {}
    batch_ids: list[str] = field(default_factory=list)
    error: str | None = None  # extract_source(raise_on_error=False) only

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_client(source: str, config: ExtractConfig) -> Connector:
    return CLIENTS[source](config)


def connect_warehouse(warehouse_path: str, cfg: ExtractConfig) -> duckdb.DuckDBPyConnection:
    con = warehouse.connect(warehouse_path)
    if cfg.duckdb_memory_limit:
        con.execute(f"set memory_limit = '{cfg.duckdb_memory_limit}'")
    if cfg.duckdb_checkpoint_threshold:
        con.execute(f"set checkpoint_threshold = '{cfg.duckdb_checkpoint_threshold}'")
    if cfg.duckdb_compression:
        con.execute(f"set force_compression = '{cfg.duckdb_compression}'")
    return con


def _as_config(config: ExtractConfig | str | Path | None) -> ExtractConfig:
    if isinstance(config, ExtractConfig):
        return config
    return load_config(config)


def extract_stream(
    stream: str,
    config: ExtractConfig | str | Path | None,
    warehouse_path: str,
    *,
    full_refresh: bool = False,
    progress: Progress | None = None,
    client: Connector | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> ExtractResult:
    """Land everything new for one stream; safe to kill and rerun at any point.

    The warehouse is opened for this call and closed at its end (DuckDB: one writer per
    file) unless `connection` is given (extract_source shares one across its streams).
    """
    cfg = _as_config(config)
    spec = get_stream(stream)
    conn = client if client is not None else make_client(spec.source, cfg)
    con = connection if connection is not None else connect_warehouse(warehouse_path, cfg)
    try:
        return _Run(spec, cfg, con, conn, full_refresh, progress).run()
    finally:
        if connection is None:
            con.close()
        if client is None:
            conn.close()


def extract_source(
    source: str,
    config: ExtractConfig | str | Path | None,
    warehouse_path: str,
    *,
    full_refresh: bool = False,
    progress: Progress | None = None,
    streams: list[str] | None = None,
    raise_on_error: bool = True,
) -> list[ExtractResult]:
    """Every stream of a source in turn, sharing one client (one token, one session).

    A failing stream does not stop the others: each stream's rows and cursor are committed on
    their own. When any failed, `ExtractionError` of the first failure is raised at the end
    (`raise_on_error=False`: returned in `ExtractResult.error` instead).
    """
    cfg = _as_config(config)
    names = streams or [s.table for s in streams_of(source)]
    client = make_client(source, cfg)
    con = connect_warehouse(warehouse_path, cfg)
    results: list[ExtractResult] = []
    first_error: ExtractionError | None = None
    try:
        for name in names:
            try:
                results.append(
                    extract_stream(
                        name, cfg, warehouse_path, full_refresh=full_refresh, progress=progress,
                        client=client, connection=con,
                    )  # fmt: skip
                )
            except ExtractionError as exc:
                log.error("%s", exc)
                first_error = first_error or exc
                results.append(ExtractResult(stream=name, source=source, error=str(exc)))
    finally:
        con.close()
        client.close()
    if first_error is not None and raise_on_error:
        raise first_error
    return results


class _Run:
    def __init__(
        self,
        spec: Stream,
        cfg: ExtractConfig,
        con: duckdb.DuckDBPyConnection,
        client: Connector,
        full_refresh: bool,
        progress: Progress | None,
    ):
        self.spec, self.cfg, self.con, self.client = spec, cfg, con, client
        self.progress = progress
        self.keys = record_keys(spec)
        self.sort_key = cursor_sort_key(spec)
        self.result = ExtractResult(stream=spec.table, source=spec.source, full_refresh=full_refresh)
        self.observer = SchemaObserver(root=spec.drift_root)
        self.run_id = landing.new_run_id()
        self.commits = 0

    def run(self) -> ExtractResult:
        started = time.perf_counter()
        spec, res = self.spec, self.result
        landing.ensure_raw_table(self.con, spec.table)
        # Nothing landed before this run: no version can repeat one, skip the comparison.
        self.compare = self.con.execute(f"select exists (from raw.{spec.table})").fetchone()[0]
        state = load_state(self.con, spec.table)
        reference = load_reference(self.con, spec.table)
        res.cursor_before = state.cursor
        self.state = state
        requests_before = getattr(getattr(self.client, "http", None), "requests_sent", 0)

        pending: list[pa.Table] = []
        pending_rows = 0
        position: dict | None = None
        # One writer thread: a chunk commits (DuckDB releases the GIL) while the next is read.
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-writer")
        in_flight: Future | None = None
        try:
            since, resume, run_max = self._plan(state)
            for page in _prefetch(self.client.read(spec, since, resume), self.cfg.prefetch_pages):
                res.pages += 1
                res.rows_read += len(page.records)
                if page.records:
                    self.observer.observe(page.records)
                    run_max = self._max_cursor(run_max, page.records)
                    pending.append(
                        landing.page_to_arrow(
                            page.records, source=spec.source, stream=spec.table,
                            batch_id="", keys=self.keys,
                        )  # fmt: skip
                    )
                    pending_rows += len(page.records)
                position = page.position
                if pending_rows >= self.cfg.commit_rows:
                    checkpoint = {"since": since, "position": position, "run_max": run_max}
                    if in_flight is not None:
                        in_flight.result()  # at most one chunk waits: memory stays bounded
                    in_flight = writer.submit(self._commit, pending, StreamState(state.cursor, checkpoint))
                    pending, pending_rows = [], 0
                if self.progress:
                    self.progress(spec.table, res.rows_read, res.rows_landed)
            if in_flight is not None:
                in_flight.result()
            final_cursor = self._later(state.cursor, run_max)
            self._commit(pending, StreamState(final_cursor, None), final=True)
        except Exception as exc:
            if in_flight is not None:
                in_flight.cancel()
                wait([in_flight])  # never leave a commit running on the connection we close
            raise ExtractionError(spec.table, self.state.cursor, self.state.checkpoint, exc) from exc
        finally:
            writer.shutdown(wait=True)
            res.seconds = round(time.perf_counter() - started, 3)
            res.requests = getattr(getattr(self.client, "http", None), "requests_sent", 0) - requests_before
        res.cursor_after = self.state.cursor
        report = drift_report(reference, self.observer, spec.fields)
        if report["drift"]:
            res.drift = report  # empty when nothing drifted, so `if result.drift:` reads right
            log.warning("stream %s: schema drift %s", spec.table, report)
        return res

    def _plan(self, state: StreamState) -> tuple[str | None, dict | None, str | None]:
        """(lower bound, resume position, highest cursor already read by this run)."""
        if not self.spec.incremental or self.result.full_refresh:
            return None, None, None
        checkpoint = state.checkpoint
        if checkpoint:
            self.result.resumed = True
            return checkpoint.get("since"), checkpoint.get("position"), checkpoint.get("run_max")
        if state.cursor is None:
            return None, None, None
        since = shift_cursor(state.cursor, self.spec.cursor_type or "iso", self.cfg.overlap_seconds)
        return since, None, None

    def _max_cursor(self, current: str | None, records: list[dict]) -> str | None:
        cursors = [c for c in (self.keys.cursor(r) for r in records) if c is not None]
        if not cursors:
            return current
        page_max = str(max(cursors, key=lambda c: self.sort_key(str(c))))
        return self._later(current, page_max)

    def _later(self, a: str | None, b: str | None) -> str | None:
        if a is None:
            return b
        if b is None:
            return a
        return a if self.sort_key(a) >= self.sort_key(b) else b

    def _commit(self, tables: list[pa.Table], state: StreamState, final: bool = False) -> None:
        self.commits += 1
        batch_id = landing.new_batch_id(self.run_id, self.commits)
        rows = sum(t.num_rows for t in tables)
        con = self.con
        con.execute("begin")
        try:
            landed = 0
            if rows:
                batch = pa.concat_tables(tables)
                batch = batch.set_column(
                    batch.schema.get_field_index("_batch_id"),
                    "_batch_id",
                    pa.repeat(pa.scalar(batch_id, pa.string()), batch.num_rows),
                )
                landed = landing.append_new_versions(
                    con, self.spec.table, batch, by_content=not self.spec.incremental,
                    run_id=self.run_id, compare=self.compare,
                )  # fmt: skip
            if final:
                save_observed(con, self.spec.table, self.observer)
            save_state(con, self.spec.table, state, batch_id if landed else None)
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        self.state = state
        self.result.rows_landed += landed
        if landed:
            self.result.batch_ids.append(batch_id)


_DONE = object()


def _prefetch(pages: Iterator[Page], depth: int) -> Iterator[Page]:
    """Fetch up to `depth` pages ahead on a thread: the network wait overlaps the landing."""
    if depth <= 0:
        yield from pages
        return
    box: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        box.put(page, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(exc)

    worker = threading.Thread(target=produce, name="extract-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)
