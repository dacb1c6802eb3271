"""Marts out of the warehouse as Parquet (or CSV) files plus a manifest BI tools can trust.

DuckDB's COPY writes the files, so no table passes through Python memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class ExportedTable:
    relation: str
    path: str
    format: str
    rows: int
    columns: list[dict[str, str]]
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_relations(con: duckdb.DuckDBPyConnection, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by 1",
        [schema],
    ).fetchall()
    return [f"{schema}.{name}" for (name,) in rows]


def export_relations(
    warehouse_path: str | Path,
    out_dir: str | Path,
    relations: list[str] | None = None,
    *,
    schema: str = "marts",
    fmt: str = "parquet",
) -> dict:
    """Export each relation to `<out_dir>/<name>.<fmt>` and write `manifest.json` beside them.

    Files are written to a temporary name and renamed, so a reader never sees half a file.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown export format {fmt!r}: use parquet or csv")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        relations = relations if relations is not None else list_relations(con, schema)
        exported = [_export_one(con, rel, out, fmt) for rel in relations]
    finally:
        con.close()
    manifest = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "warehouse": str(warehouse_path),
        "format": fmt,
        "tables": [asdict(t) for t in exported],
    }
    tmp = out / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    tmp.replace(out / MANIFEST_NAME)
    return manifest


def _export_one(con: duckdb.DuckDBPyConnection, relation: str, out: Path, fmt: str) -> ExportedTable:
    name = relation.split(".")[-1]
    target = out / f"{name}.{fmt}"
    tmp = out / f".{name}.{fmt}.tmp"
    options = "format parquet, compression zstd" if fmt == "parquet" else "format csv, header true"
    con.execute(f"copy (select * from {relation}) to '{tmp}' ({options})")
    tmp.replace(target)
    rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
    columns = [
        {"name": col, "type": typ}
        for col, typ, *_ in con.execute(f"describe {relation}").fetchall()
    ]
    return ExportedTable(relation, str(target), fmt, rows, columns, _sha256(target))
