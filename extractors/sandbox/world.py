"""The sandbox world: every raw table of docs/source_contract.md, served lazily.

    w = World(seed=7, scale=0.1)
    w.streams()                      # the 20 raw table names
    w.count("crm_leads")             # rows a full pull returns at the current epoch
    for rec in w.iter_records("crm_leads", start=0): ...   # wire-shaped dicts, key order
    w.truth()                        # the truth manifest (README.md)
    w.advance()                      # next epoch: late updates, deletes, creates

Records are built per block of `BLOCK` rows from the skeleton (spine.py) and the counter
hash, so memory stays bounded: nothing holds a whole table of dicts. To land records into
DuckDB for a unit test, page them: `land_records(con, table, w.pages(table), ...)`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable

import numpy as np
from . import timefmt as T
from .spine import Spine
from .wire_crm import API_NAMES, CrmWire
from .wire_erp import MODELS, N_PRODUCTS, ErpWire
from .wire_mkt import ID_BASE, PATHS, MktWire

BLOCK = 1024
BLOCK_CACHE = 6  # blocks of dicts kept (per world, all streams)

CRM_STREAMS = ["crm_departments", "crm_users", "crm_accounts", "crm_contacts", "crm_leads", "crm_opportunities",
               "crm_opportunity_stage_changes", "crm_activities", "crm_quotas", "crm_forecast_submissions"]
MKT_STREAMS = list(PATHS)
ERP_STREAMS = list(MODELS)
SOURCES = {**{s: "crm" for s in CRM_STREAMS}, **{s: "marketing" for s in MKT_STREAMS},
           **{s: "erp" for s in ERP_STREAMS}}


@dataclass
class StreamView:
    """How one raw table is served: size, builder, and the columns filters run on."""

    name: str
    source: str
    n: Callable[[], int]
    build: Callable[[np.ndarray], list[dict]]
    cursor_ms: Callable[[], np.ndarray]  # the incremental cursor per row, epoch ms
    row_map: Callable[[], np.ndarray] | None = None  # served row -> entity index (rows may repeat)


class World:
    def __init__(self, seed: int, scale: float) -> None:
        self.seed = int(seed)
        self.scale = float(scale)
        self.spine = Spine(self.seed, self.scale)
        self.crm = CrmWire(self.spine)
        self.mkt = MktWire(self.spine, self.crm)
        self.erp = ErpWire(self.spine, self.crm)
        self.epoch = 0
        self.changes: dict[str, dict[str, list]] = {}
        self.late_updates: dict[str, set[int]] = {}
        self._views = self._make_views()
        self._blocks: OrderedDict[tuple, list] = OrderedDict()
        self._block_lock = threading.Lock()
        self._small: dict[str, tuple[list[dict], np.ndarray]] = {}

    # --- public API -------------------------------------------------------------------
    @property
    def as_of_ms(self) -> int:
        return T.as_of_ms(self.epoch)

    def streams(self) -> list[str]:
        return list(self._views)

    def source(self, stream: str) -> str:
        return SOURCES[stream]

    def view(self, stream: str) -> StreamView:
        try:
            return self._views[stream]
        except KeyError:
            raise KeyError(f"unknown stream {stream!r}; known: {', '.join(self._views)}") from None

    def count(self, stream: str) -> int:
        return self.view(stream).n()

    def iter_records(self, stream: str, start: int = 0) -> Iterator[dict]:
        """Rows of a stream in primary-key order from row `start` (what a full pull returns)."""
        n = self.count(stream)
        b = start // BLOCK
        while b * BLOCK < n:
            recs = self.block(stream, b)
            lo = max(0, start - b * BLOCK)
            yield from recs[lo:]
            b += 1

    def pages(self, stream: str, size: int = 1000) -> Iterator[list[dict]]:
        """Rows in pages, e.g. for `extractors.landing.land_records`."""
        page: list[dict] = []
        for rec in self.iter_records(stream):
            page.append(rec)
            if len(page) == size:
                yield page
                page = []
        if page:
            yield page

    def records(self, stream: str, rows: np.ndarray) -> list[dict]:
        """Rows at arbitrary positions (filtered queries). Sparse rows, such as the late updates
        an incremental pull asks for, are built one by one instead of block by block."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return []
        if int(rows[-1]) - int(rows[0]) == len(rows) - 1 and np.all(np.diff(rows) == 1):
            return self.rows_slice(stream, int(rows[0]), len(rows))
        v = self.view(stream)
        if v.row_map is None:
            return v.build(rows)
        ent = v.row_map()[rows]
        uniq, inv = np.unique(ent, return_inverse=True)
        built = v.build(uniq)
        return [built[i] for i in inv.tolist()]

    def block(self, stream: str, b: int) -> list[dict]:
        """Records of block `b` (rows b*BLOCK ...), from a small LRU: dicts cost ~5 KB a row."""
        return self._block_entry(stream, b)

    def rows_slice(self, stream: str, first: int, n: int) -> list[dict]:
        """Records of the contiguous rows [first, first + n)."""
        out: list[dict] = []
        row, end = first, first + n
        while row < end:
            b = row // BLOCK
            recs = self.block(stream, b)
            out.extend(recs[row - b * BLOCK:min(end, (b + 1) * BLOCK) - b * BLOCK])
            row = (b + 1) * BLOCK
        return out

    def cursor_ms(self, stream: str) -> np.ndarray:
        return self.view(stream).cursor_ms()

    def truth(self) -> dict:
        from .truth import build_truth

        return build_truth(self)

    def advance(self) -> dict:
        """Move to the next epoch; returns the changes (also in truth()['changes'])."""
        from .epochs import advance

        self.changes = advance(self)
        self.epoch += 1
        self._blocks.clear()
        self._small.clear()
        return self.changes

    def record_id(self, stream: str, row: int) -> object:
        """Primary key of a served row as it appears on the wire."""
        return self.ids(stream, np.array([row]))[0]

    def ids(self, stream: str, rows: np.ndarray) -> list:
        rows = np.asarray(rows, dtype=np.int64)
        v = self.view(stream)
        ent = v.row_map()[rows] if v.row_map else rows
        src = v.source
        if stream in API_NAMES:
            return self.crm.ids(stream, ent)
        if src == "marketing":
            return [str(ID_BASE[stream] + i) for i in ent.tolist()]
        if src == "erp":
            return [i + 1 for i in ent.tolist()]
        recs = self._small_records(stream)[0]
        key = "id" if stream == "crm_departments" else "openUserId"
        return [recs[i][key] for i in ent.tolist()]

    # --- internals --------------------------------------------------------------------
    def _block_entry(self, stream: str, b: int) -> list[dict]:
        key = (stream, b)
        with self._block_lock:
            recs = self._blocks.get(key)
            if recs is not None:
                self._blocks.move_to_end(key)
                return recs
        v = self.view(stream)
        n = v.n()
        rows = np.arange(b * BLOCK, min(n, (b + 1) * BLOCK), dtype=np.int64)
        if v.row_map is not None:
            ent = v.row_map()[rows]
            uniq, inv = np.unique(ent, return_inverse=True)
            built = v.build(uniq)
            recs = [built[i] for i in inv.tolist()]
        else:
            recs = v.build(rows) if len(rows) else []
        with self._block_lock:
            self._blocks[key] = recs
            while len(self._blocks) > BLOCK_CACHE:
                self._blocks.popitem(last=False)
        return recs

    def _small_records(self, stream: str) -> tuple[list[dict], np.ndarray]:
        """Directory streams and other tiny tables are materialised per epoch."""
        got = self._small.get(stream)
        if got is None:
            if stream == "crm_departments":
                recs = self.crm.departments()
                cur = np.zeros(len(recs), np.int64)
            elif stream == "crm_users":
                recs = self.crm.users()
                cur = np.array([r["createTime"] for r in recs], np.int64)
            else:
                v = self._views[stream]
                recs = v.build(np.arange(v.n(), dtype=np.int64))
                cur = np.array([_cursor_of(stream, r) for r in recs], np.int64)
            got = self._small[stream] = (recs, cur)
        return got

    def _make_views(self) -> dict[str, StreamView]:
        s, crm, mkt, erp = self.spine, self.crm, self.mkt, self.erp
        views: dict[str, StreamView] = {}

        def small(name: str) -> StreamView:
            return StreamView(name, SOURCES[name], lambda: len(self._small_records(name)[0]),
                              lambda idx: [self._small_records(name)[0][i] for i in idx.tolist()],
                              lambda: self._small_records(name)[1])

        views["crm_departments"] = small("crm_departments")
        views["crm_users"] = small("crm_users")
        crm_tabs = {"crm_accounts": lambda: s.accounts, "crm_contacts": lambda: s.contacts,
                    "crm_leads": lambda: s.leads, "crm_opportunities": lambda: s.opps,
                    "crm_opportunity_stage_changes": lambda: s.sc, "crm_activities": lambda: s.acts}
        for name, tab in crm_tabs.items():
            views[name] = StreamView(name, "crm", lambda tab=tab: tab().n, getattr(crm, name),
                                     lambda tab=tab: tab().lmt)
        views["crm_quotas"] = StreamView("crm_quotas", "crm", lambda: s.n_reps * len(s.fiscal_years),
                                         crm.crm_quotas, lambda: self._small_records("crm_quotas")[1])
        views["crm_forecast_submissions"] = StreamView(
            "crm_forecast_submissions", "crm", lambda: s.n_reps * s.n_months, crm.crm_forecast_submissions,
            lambda: self._small_records("crm_forecast_submissions")[1])
        views["mkt_campaigns"] = StreamView("mkt_campaigns", "marketing", lambda: s.camp.n, mkt.mkt_campaigns,
                                            lambda: s.camp.lmt)
        views["mkt_campaign_daily_metrics"] = StreamView(
            "mkt_campaign_daily_metrics", "marketing", lambda: s.metrics.n, mkt.mkt_campaign_daily_metrics,
            lambda: s.metrics.lmt)
        views["mkt_form_submissions"] = StreamView(
            "mkt_form_submissions", "marketing", lambda: len(s.sub_rows), mkt.mkt_form_submissions,
            lambda: s.subs.lmt[s.sub_rows], row_map=lambda: s.sub_rows)
        views["mkt_engagement_events"] = StreamView(
            "mkt_engagement_events", "marketing", lambda: s.events.n, mkt.mkt_engagement_events,
            lambda: s.events.t)
        # ERP cursors are write_date strings with whole seconds: filter on the truncated value.
        views["erp_customers"] = StreamView("erp_customers", "erp", lambda: s.customers.n, erp.erp_customers,
                                            lambda: s.customers.lmt // 1000 * 1000)
        views["erp_products"] = StreamView("erp_products", "erp", lambda: N_PRODUCTS, erp.erp_products,
                                           lambda: self._small_records("erp_products")[1])
        views["erp_sales_orders"] = StreamView("erp_sales_orders", "erp", lambda: s.orders.n,
                                               erp.erp_sales_orders, lambda: s.orders.lmt // 1000 * 1000)
        views["erp_sales_order_lines"] = StreamView(
            "erp_sales_order_lines", "erp", lambda: len(s.lines_order), erp.erp_sales_order_lines,
            lambda: s.orders.lmt[s.lines_order] // 1000 * 1000)
        views["erp_invoices"] = StreamView("erp_invoices", "erp", lambda: s.invoices.n, erp.erp_invoices,
                                           lambda: s.invoices.lmt // 1000 * 1000)
        views["erp_payments"] = StreamView("erp_payments", "erp", lambda: s.payments.n, erp.erp_payments,
                                           lambda: s.payments.lmt // 1000 * 1000)
        return views


def _cursor_of(stream: str, rec: dict) -> int:
    if "last_modified_time" in rec:
        return int(rec["last_modified_time"])
    if "write_date" in rec:
        return T.odoo_to_ms(rec["write_date"])
    return 0
