"""Cheap schema-drift detection: which fields a stream's records carry, with which JSON types.

A sample is looked at (every `stride`-th record of a page, the first one included): its key
layout is counted, and the value types are read from the first record of every new layout
plus every `type_stride`-th sampled record. A field that shows up in fewer than about one
record in `stride` can be missed by one run; it is seen once it is common. The observed schema is compared with what earlier runs saw
(`raw._schemas`) or, on a first run, with the fields the stream table declares.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb
import pyarrow as pa

from extractors.landing import RAW_SCHEMA, utc_now
from extractors.streams import HUBSPOT_COMMON_FIELDS

SCHEMAS_TABLE = f"{RAW_SCHEMA}._schemas"
SCHEMAS_DDL = f"""
create table if not exists {SCHEMAS_TABLE} (
    stream varchar not null,
    field varchar not null,
    json_type varchar not null,
    first_seen_at timestamp not null,
    last_seen_at timestamp not null
)
"""
# Fields are only called "missing" when a run saw enough records to say so: CRM leaves
# null fields out of a record, so a small incremental run can lack a field legitimately.
MIN_ROWS_FOR_MISSING = 500


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class SchemaObserver:
    def __init__(self, root: str | None = None, stride: int = 5, type_stride: int = 10):
        self.root = root
        self.stride = stride
        self.type_stride = type_stride
        self.sampled = 0
        self.layouts: Counter[tuple[str, ...]] = Counter()
        self.types: dict[str, set[str]] = {}
        self.rows = 0

    def _fields(self, record: dict) -> dict[str, Any]:
        if self.root is None:
            return record
        inner = record.get(self.root)
        out = {k: v for k, v in record.items() if k != self.root}
        if isinstance(inner, dict):
            out.update({f"{self.root}.{k}": v for k, v in inner.items()})
        return out

    def observe(self, records: list[dict]) -> None:
        layouts = self.layouts
        root = self.root
        for record in records[:: self.stride]:
            key = tuple(record) if root is None else (*record, *(record.get(root) or ()))
            seen_before = key in layouts
            layouts[key] += 1
            self.sampled += 1
            if not seen_before or self.sampled % self.type_stride == 0:
                for name, value in self._fields(record).items():
                    self.types.setdefault(name, set()).add(json_type(value))
        self.rows += len(records)

    def fields(self) -> set[str]:
        return set(self.types)


def ensure_schema_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(SCHEMAS_DDL)


def load_reference(con: duckdb.DuckDBPyConnection, stream: str) -> dict[str, set[str]]:
    ensure_schema_table(con)
    reference: dict[str, set[str]] = {}
    for field, kind in con.execute(
        f"select field, json_type from {SCHEMAS_TABLE} where stream = ?", [stream]
    ).fetchall():
        reference.setdefault(field, set()).add(kind)
    return reference


def save_observed(con: duckdb.DuckDBPyConnection, stream: str, observer: SchemaObserver) -> None:
    """Merge what was observed into `raw._schemas` (the caller owns the transaction)."""
    pairs = [(f, t) for f, types in observer.types.items() for t in types]
    if not pairs:
        return
    seen = pa.table({"field": [f for f, _ in pairs], "json_type": [t for _, t in pairs]})
    now = utc_now()
    con.register("_seen_types", seen)
    try:
        con.execute(
            f"update {SCHEMAS_TABLE} s set last_seen_at = ? from _seen_types n "
            "where s.stream = ? and s.field = n.field and s.json_type = n.json_type",
            [now, stream],
        )
        con.execute(
            f"insert into {SCHEMAS_TABLE} select ?, n.field, n.json_type, ?, ? from _seen_types n "
            f"where not exists (select 1 from {SCHEMAS_TABLE} s where s.stream = ? "
            "and s.field = n.field and s.json_type = n.json_type)",
            [stream, now, now, stream],
        )
    finally:
        con.unregister("_seen_types")


def drift_report(
    reference: dict[str, set[str]],
    observer: SchemaObserver,
    declared: tuple[str, ...] = (),
) -> dict[str, Any]:
    """{"baseline", "new_fields", "missing_fields", "type_changes", "rows_observed", "drift"}."""
    observed = observer.types
    if observer.rows == 0:
        return {"baseline": "none", "drift": False, "rows_observed": 0,
                "new_fields": [], "missing_fields": [], "type_changes": {}}  # fmt: skip
    if reference:
        baseline = "previous_batches"
        known = expected = set(reference)
    else:
        baseline = "declared"
        expected = _declared_fields(declared, observer.root)
        # A declared Fxiaoke lookup may come with its display name `<field>__r`.
        known = expected | {f"{name}__r" for name in expected}
    new_fields = sorted(set(observed) - known) if known else []
    missing: list[str] = []
    if observer.rows >= MIN_ROWS_FOR_MISSING and expected:
        missing = sorted(expected - set(observed) - {observer.root or ""})
    type_changes: dict[str, list[list[str]]] = {}
    if reference:
        for name, types in observed.items():
            before = reference.get(name, set()) - {"null"}
            now = types - {"null"}
            if before and now - before:
                type_changes[name] = [sorted(before), sorted(now)]
    return {
        "baseline": baseline,
        "drift": bool(new_fields or missing or type_changes),
        "rows_observed": observer.rows,
        "new_fields": new_fields,
        "missing_fields": missing,
        "type_changes": type_changes,
    }


def _declared_fields(declared: tuple[str, ...], root: str | None) -> set[str]:
    """Declared HubSpot properties live under `properties.`; the envelope fields are known too."""
    if root is None:
        return set(declared)
    return {f"{root}.{name}" for name in declared} | (set(HUBSPOT_COMMON_FIELDS) - {root})
