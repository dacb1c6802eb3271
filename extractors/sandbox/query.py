"""Query evaluation for the three API styles: CRM filters, marketing cursors, Odoo domains.

A query resolves to a sorted array of served row numbers. Filters on the key and on the
cursor run vectorised on skeleton columns; filters on any other field scan the records
once. Results are cached per (stream, epoch, filters without the `_id` bound), so paging
through a filtered result costs a binary search per page, not a scan.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np

from . import timefmt as T
from .world import World


class QueryError(ValueError):
    """A request the API would reject; `code` is the source's error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class RowCache:
    """Result row arrays of recent queries, bounded by bytes (a 3M-row result is 24 MB)."""

    def __init__(self, budget: int = 96 << 20) -> None:
        self._d: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._budget = budget
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: tuple, make: Callable[[], np.ndarray]) -> np.ndarray:
        with self._lock:
            got = self._d.get(key)
            if got is not None:
                self._d.move_to_end(key)
                return got
        got = make()
        with self._lock:
            if key not in self._d:
                self._d[key] = got
                self._used += got.nbytes
            while self._used > self._budget and len(self._d) > 1:
                _, old = self._d.popitem(last=False)
                self._used -= old.nbytes
        return got

    def clear(self) -> None:
        with self._lock:
            self._d.clear()
            self._used = 0


def _freeze(x: Any) -> Any:
    if isinstance(x, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in x.items()))
    if isinstance(x, list | tuple):
        return tuple(_freeze(v) for v in x)
    return x


# --- generic value predicates (used by scans) ------------------------------------------


def _cmp_pred(op: str, values: list) -> Callable[[Any], bool]:
    op = op.upper()
    v0 = values[0] if values else None

    def num(x: Any) -> Any:
        try:
            return float(x)
        except (TypeError, ValueError):
            return x

    def safe(f: Callable[[Any], bool]) -> Callable[[Any], bool]:
        def g(x: Any) -> bool:
            try:
                return bool(f(x))
            except TypeError:
                return False
        return g

    def eq(x: Any, v: Any) -> bool:
        if isinstance(x, list):
            return v in x
        return x == v or (x is not None and str(x) == str(v))

    table: dict[str, Callable[[Any], bool]] = {
        "EQ": lambda x: eq(x, v0),
        "N": lambda x: not eq(x, v0),
        "IN": lambda x: any(eq(x, v) for v in values),
        "NIN": lambda x: not any(eq(x, v) for v in values),
        "GT": safe(lambda x: x is not None and num(x) > num(v0)),
        "GTE": safe(lambda x: x is not None and num(x) >= num(v0)),
        "LT": safe(lambda x: x is not None and num(x) < num(v0)),
        "LTE": safe(lambda x: x is not None and num(x) <= num(v0)),
        "BETWEEN": safe(lambda x: x is not None and num(values[0]) <= num(x) <= num(values[1])),
        "NBETWEEN": safe(lambda x: x is None or not num(values[0]) <= num(x) <= num(values[1])),
        "IS": lambda x: x is None or x == "" or x == [],
        "ISN": lambda x: not (x is None or x == "" or x == []),
        "LIKE": lambda x: x is not None and str(v0) in str(x),
        "CONTAINS": lambda x: x is not None and str(v0) in str(x),
        "NLIKE": lambda x: x is None or str(v0) not in str(x),
        "STARTWITH": lambda x: x is not None and str(x).startswith(str(v0)),
        "ENDWITH": lambda x: x is not None and str(x).endswith(str(v0)),
        "HASANYOF": lambda x: isinstance(x, list) and any(v in x for v in values),
        "NHASANYOF": lambda x: not (isinstance(x, list) and any(v in x for v in values)),
    }
    if op not in table:
        raise QueryError(10001, f"unsupported operator {op}")
    if op in ("BETWEEN", "NBETWEEN") and len(values) != 2:
        raise QueryError(10001, f"{op} needs two field_values")
    if op not in ("IS", "ISN") and not values:
        raise QueryError(10001, f"operator {op} needs field_values")
    return table[op]


def _num_mask(col: np.ndarray, op: str, values: list) -> np.ndarray:
    try:
        v = [int(float(x)) for x in values]
    except (TypeError, ValueError) as exc:
        raise QueryError(10001, f"numeric filter needs numbers, got {values!r}") from exc
    op = op.upper()
    if op == "GT":
        return col > v[0]
    if op == "GTE":
        return col >= v[0]
    if op == "LT":
        return col < v[0]
    if op == "LTE":
        return col <= v[0]
    if op == "EQ":
        return col == v[0]
    if op == "N":
        return col != v[0]
    if op == "IN":
        return np.isin(col, v)
    if op == "NIN":
        return ~np.isin(col, v)
    if op == "BETWEEN":
        return (col >= v[0]) & (col <= v[1])
    if op == "NBETWEEN":
        return (col < v[0]) | (col > v[1])
    raise QueryError(10001, f"operator {op} not supported on this field")


class Engine:
    def __init__(self, world: World, lock: threading.RLock) -> None:
        self.w = world
        self.lock = lock
        self.cache = RowCache()

    def _scan(self, stream: str, preds: list[tuple[str, Callable[[Any], bool]]], key: Any) -> np.ndarray:
        """Rows passing predicates on arbitrary fields: one pass over the records, cached per
        epoch under `key` (the frozen predicates), so a new watermark does not rescan."""
        full_key = ("scan", stream, self.w.epoch, key)

        def make() -> np.ndarray:
            keep = []
            for i, rec in enumerate(self.w.iter_records(stream)):
                if all(p(_field(rec, f)) for f, p in preds):
                    keep.append(i)
            return np.array(keep, dtype=np.int64)

        return self.cache.get(full_key, make)

    # --- CRM ---------------------------------------------------------------------------
    def crm_rows(self, stream: str, filters: list[dict], orders: list[dict]) -> tuple[np.ndarray, bool]:
        """Matching rows in the requested order; second value: whether rows are in _id order."""
        w = self.w
        n = w.count(stream)
        id_terms, other = [], []
        for f in filters or []:
            if not isinstance(f, dict) or "field_name" not in f:
                raise QueryError(10001, "each filter needs field_name, field_values, operator")
            vals = f.get("field_values", [])
            if not isinstance(vals, list):
                vals = [vals]
            term = (f["field_name"], str(f.get("operator", "EQ")).upper(), vals)
            (id_terms if term[0] == "_id" and term[1] in ("GT", "GTE", "LT", "LTE") else other).append(term)
        order = [(o.get("fieldName"), bool(o.get("isAsc", True))) for o in (orders or [])] or [("_id", True)]
        for fld, _ in order:
            if fld not in ("_id", "last_modified_time", "create_time"):
                raise QueryError(10001, f"order by {fld} is not supported by the sandbox")
        key = ("crm", stream, w.epoch, _freeze(other), _freeze(order))

        def make() -> np.ndarray:
            mask = np.ones(n, bool)
            preds, scan_terms = [], []
            fast = {"last_modified_time": w.cursor_ms(stream)}
            for fld, op, vals in other:
                if fld in fast and op not in ("IS", "ISN"):
                    mask &= _num_mask(fast[fld], op, vals)
                elif fld == "_id" and op in ("EQ", "IN", "N", "NIN"):
                    ok = np.zeros(n, bool)
                    for v in vals:
                        p = w.crm.id_position(stream, str(v), n) - 1
                        if p >= 0 and w.record_id(stream, p) == str(v).lower():
                            ok[p] = True
                    mask &= ~ok if op in ("N", "NIN") else ok
                else:
                    preds.append((fld, _cmp_pred(op, vals)))
                    scan_terms.append([fld, op, vals])
            rows = np.flatnonzero(mask)
            if preds:
                scanned = self._scan(stream, preds, _freeze(scan_terms))
                rows = np.intersect1d(rows, scanned, assume_unique=True)
            if order[0][0] != "_id":
                col = w.cursor_ms(stream) if order[0][0] == "last_modified_time" else self._create_times(stream)
                ks = col[rows]
                rows = rows[np.lexsort((rows, ks))]
                if not order[0][1]:
                    rows = rows[::-1].copy()
            elif not order[0][1]:
                rows = rows[::-1].copy()
            return rows

        with self.lock:
            rows = self.cache.get(key, make)
        id_order = order[0] == ("_id", True)
        if id_terms:
            lo, hi = 0, n
            for _, op, vals in id_terms:
                p = w.crm.id_position(stream, str(vals[0]) if vals else "", n)
                if op == "GT":
                    lo = max(lo, p)
                elif op == "GTE":
                    lo = max(lo, p - (1 if p > 0 and w.record_id(stream, p - 1) == str(vals[0]).lower() else 0))
                elif op == "LT":
                    hi = min(hi, p - (1 if p > 0 and w.record_id(stream, p - 1) == str(vals[0]).lower() else 0))
                else:
                    hi = min(hi, p)
            if id_order:
                rows = rows[np.searchsorted(rows, lo):np.searchsorted(rows, hi)]
            else:
                rows = rows[(rows >= lo) & (rows < hi)]
        return rows, id_order

    def _create_times(self, stream: str) -> np.ndarray:
        s = self.w.spine
        tabs = {"crm_accounts": s.accounts, "crm_contacts": s.contacts, "crm_leads": s.leads,
                "crm_opportunities": s.opps, "crm_opportunity_stage_changes": s.sc, "crm_activities": s.acts}
        if stream in tabs:
            t = tabs[stream]
            return t.t if stream in ("crm_opportunity_stage_changes", "crm_activities") else t.ct
        return np.array([r["create_time"] for r in self.w.iter_records(stream)], np.int64)

    # --- marketing -----------------------------------------------------------------------
    def mkt_rows(self, stream: str, updated_after: int | None, archived: bool) -> np.ndarray:
        w = self.w
        key = ("mkt", stream, w.epoch, updated_after, archived)

        def make() -> np.ndarray:
            mask = np.ones(w.count(stream), bool)
            if updated_after is not None:
                mask &= w.cursor_ms(stream) >= updated_after
            if not archived:
                mask &= ~self._archived(stream)
            return np.flatnonzero(mask)

        with self.lock:
            return self.cache.get(key, make)

    def _archived(self, stream: str) -> np.ndarray:
        s = self.w.spine
        if stream == "mkt_form_submissions":
            return s.subs.archived[s.sub_rows]
        return {"mkt_campaigns": s.camp.archived, "mkt_campaign_daily_metrics": s.metrics.archived,
                "mkt_engagement_events": s.events.archived}[stream]

    # --- Odoo ------------------------------------------------------------------------------
    def odoo_rows(self, stream: str, domain: list, order: str | None) -> np.ndarray:
        w = self.w
        ordering = _parse_odoo_order(order)
        key = ("erp", stream, w.epoch, _freeze(domain), _freeze(ordering))

        def make() -> np.ndarray:
            n = w.count(stream)
            mask = _eval_domain(domain, lambda term: self._odoo_term(stream, term, n))
            rows = np.flatnonzero(mask)
            if ordering[0][0] == "write_date":
                rows = rows[np.lexsort((rows, w.cursor_ms(stream)[rows]))]
                if not ordering[0][1]:
                    rows = rows[::-1].copy()
            elif not ordering[0][1]:
                rows = rows[::-1].copy()
            return rows

        with self.lock:
            return self.cache.get(key, make)

    def _odoo_term(self, stream: str, term: list, n: int) -> np.ndarray:
        if not (isinstance(term, list | tuple) and len(term) == 3):
            raise QueryError(200, f"Invalid leaf {term!r}")
        fld, op, val = term
        op = str(op).lower()
        ops = {"=": "EQ", "==": "EQ", "!=": "N", "<>": "N", ">": "GT", ">=": "GTE", "<": "LT", "<=": "LTE",
               "in": "IN", "not in": "NIN", "like": "LIKE", "ilike": "LIKE"}
        if op not in ops:
            raise QueryError(200, f"Invalid operator {op!r}")
        vals = list(val) if isinstance(val, list | tuple) else [val]
        if fld == "id" and ops[op] != "LIKE":
            return _num_mask(np.arange(1, n + 1), ops[op], vals)
        if fld == "write_date" and ops[op] != "LIKE" and all(isinstance(v, str) for v in vals):
            ms = [T.odoo_to_ms(v) for v in vals]
            return _num_mask(self.w.cursor_ms(stream), ops[op], ms)
        pred = _odoo_pred(ops[op], vals)
        scanned = self._scan(stream, [(fld, pred)], _freeze(["odoo", fld, op, vals]))
        mask = np.zeros(n, bool)
        mask[scanned] = True
        return mask


def _odoo_pred(op: str, vals: list) -> Callable[[Any], bool]:
    base = _cmp_pred(op, vals)

    def f(x: Any) -> bool:
        if isinstance(x, list) and len(x) == 2 and isinstance(x[0], int) and op not in ("HASANYOF",):
            x = x[0]  # many2one compares on its id
        if x is False and op in ("EQ", "N", "IN", "NIN"):
            return base(False)
        return base(x)

    return f


def _eval_domain(domain: list, leaf: Callable[[list], np.ndarray]) -> np.ndarray | Any:
    """Odoo's prefix-notation domain: '&' (default between terms), '|', '!'."""
    if not isinstance(domain, list):
        raise QueryError(200, "domain must be a list")
    pos = 0

    def parse() -> np.ndarray:
        nonlocal pos
        tok = domain[pos]
        pos += 1
        if tok == "&":
            a = parse()
            return a & parse()
        if tok == "|":
            a = parse()
            return a | parse()
        if tok == "!":
            return ~parse()
        return leaf(tok)

    result = None
    while pos < len(domain):
        m = parse()
        result = m if result is None else (result & m)
    if result is None:
        return leaf(["id", ">", 0])
    return result


def _parse_odoo_order(order: str | None) -> list[tuple[str, bool]]:
    if not order:
        return [("id", True)]
    out = []
    for part in str(order).split(","):
        bits = part.strip().split()
        if not bits:
            continue
        fld = bits[0]
        asc = len(bits) < 2 or bits[1].lower() == "asc"
        if fld not in ("id", "write_date"):
            raise QueryError(200, f"order by {fld} is not supported by the sandbox (use id or write_date)")
        out.append((fld, asc))
    return out or [("id", True)]


def _field(rec: dict, name: str) -> Any:
    if name in rec:
        return rec[name]
    props = rec.get("properties")
    if isinstance(props, dict):
        return props.get(name)
    return None
