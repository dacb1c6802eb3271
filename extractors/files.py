"""File drops: CSV or Parquet mapped onto a raw table by a YAML mapping, landed with `_source='file'`.

Each file is all-or-nothing: it is parsed and converted completely before anything is
written, then landed in one transaction together with its entry in the processed-files
ledger (`raw._file_ledger`, keyed by the file's SHA-256), so the same file never lands twice.
A mapping or parse error raises `FileLoadError` naming the file, line and column.
Mapping format: see `extractors/file_mappings/example_leads.yaml`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pyarrow.parquet as pq
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extractors import landing, warehouse
from extractors.landing import RAW_SCHEMA, RecordKeys

LEDGER_TABLE = f"{RAW_SCHEMA}._file_ledger"
LEDGER_DDL = f"""
create table if not exists {LEDGER_TABLE} (
    sha256 varchar not null,
    path varchar not null,
    raw_table varchar not null,
    rows_read bigint not null,
    rows_landed bigint not null,
    batch_id varchar not null,
    loaded_at timestamp not null
)
"""
TRUE_WORDS = {"true", "t", "yes", "y", "1", "是", "on"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "否", "off"}


class FileLoadError(Exception):
    def __init__(self, path: str | Path, message: str, line: int | None = None, column: str | None = None):
        where = str(path) + (f", line {line}" if line is not None else "")
        where += f", column {column!r}" if column is not None else ""
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.column = str(path), line, column


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnMapping(_Strict):
    field: str = Field(description="target field name in the landed record")
    type: Literal["string", "integer", "number", "decimal", "boolean", "datetime", "date"] = "string"
    format: str | None = Field(
        None,
        description="datetime/date input: a strptime pattern, 'iso', 'epoch_ms' or 'epoch_s'",
    )
    output: Literal["epoch_ms", "iso", "odoo", "date"] | None = Field(
        None, description="datetime default epoch_ms (CRM shape); date default 'date' (YYYY-MM-DD)"
    )
    timezone: str | None = Field(None, description="zone of naive times; default the mapping's")
    scale: int = Field(2, ge=0, description="decimal places of a 'decimal' (kept as a string)")
    required: bool = False


class CsvOptions(_Strict):
    delimiter: str = ","
    encoding: str = "utf-8-sig"  # tolerates the BOM that spreadsheet exports add
    quotechar: str = '"'


class TombstoneRule(_Strict):
    field: str
    values: list[Any] = [True]


class FileMapping(_Strict):
    table: str = Field(description="raw table to land into, e.g. crm_leads")
    format: Literal["csv", "parquet"] | None = None
    csv: CsvOptions = CsvOptions()
    timezone: str = "Asia/Shanghai"
    primary_key: str = Field(description="target field holding the record id (-> _record_id)")
    cursor: str | None = Field(None, description="target field holding the version (-> _cursor)")
    deleted: TombstoneRule | None = None
    columns: dict[str, ColumnMapping]
    constants: dict[str, Any] = {}
    unmapped: Literal["keep", "drop", "error"] = "keep"

    @model_validator(mode="after")
    def _keys_are_targets(self) -> FileMapping:
        targets = {c.field for c in self.columns.values()} | set(self.constants)
        for name in (self.primary_key, self.cursor, self.deleted.field if self.deleted else None):
            if name is not None and name not in targets and self.unmapped != "keep":
                raise ValueError(f"{name!r} is not a mapped field or constant")
        return self


def load_mapping(path: str | Path) -> FileMapping:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return FileMapping.model_validate(data)
    except ValidationError as exc:
        raise FileLoadError(path, f"invalid mapping: {exc}") from exc
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise FileLoadError(path, f"mapping is not valid YAML: {exc}", line=None if line is None else line + 1) from exc


@dataclass
class FileLoadResult:
    path: str
    table: str
    sha256: str
    rows_read: int = 0
    rows_landed: int = 0
    skipped: bool = False  # already in the ledger
    batch_id: str | None = None
    error: str | None = None  # load_directory: why this file landed nothing


# -- value conversion ----------------------------------------------------------------------


def _converter(col: ColumnMapping, default_tz: str) -> Callable[[Any], Any]:
    tz = ZoneInfo(col.timezone or default_tz)
    if col.type == "string":
        return lambda v: v if isinstance(v, str) else str(v)
    if col.type == "integer":
        return _to_int
    if col.type == "number":
        return lambda v: float(v) if isinstance(v, str) else v + 0
    if col.type == "decimal":
        quantum = Decimal(1).scaleb(-col.scale)
        return lambda v: str(Decimal(str(v).replace(",", "")).quantize(quantum, ROUND_HALF_UP))
    if col.type == "boolean":
        return _to_bool
    if col.type == "datetime":
        return _datetime_converter(col.format or "iso", col.output or "epoch_ms", tz)
    return _date_converter(col.format or "%Y-%m-%d", col.output or "date", tz)


def _to_int(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError("boolean is not an integer")
    if isinstance(v, int):
        return v
    number = float(str(v).replace(",", ""))
    if not number.is_integer():
        raise ValueError(f"{v!r} is not a whole number")
    return int(number)


def _to_bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    word = str(v).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{v!r} is not a boolean")


def _parse_moment(v: Any, fmt: str, tz: ZoneInfo) -> dt.datetime:
    if isinstance(v, dt.datetime):
        moment = v
    elif isinstance(v, dt.date):
        moment = dt.datetime(v.year, v.month, v.day)
    elif fmt == "epoch_ms":
        return dt.datetime.fromtimestamp(_to_int(v) / 1000, dt.UTC)
    elif fmt == "epoch_s":
        return dt.datetime.fromtimestamp(float(v), dt.UTC)
    elif fmt == "iso":
        moment = dt.datetime.fromisoformat(str(v).strip().replace("Z", "+00:00"))
    else:
        moment = dt.datetime.strptime(str(v).strip(), fmt)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment


def _datetime_converter(fmt: str, output: str, tz: ZoneInfo) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        moment = _parse_moment(v, fmt, tz).astimezone(dt.UTC)
        if output == "epoch_ms":
            return int(round(moment.timestamp() * 1000))
        if output == "odoo":
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        if output == "date":
            return moment.astimezone(tz).strftime("%Y-%m-%d")
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

    return convert


def _date_converter(fmt: str, output: str, tz: ZoneInfo) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        moment = _parse_moment(v, fmt, tz).astimezone(tz)
        day = dt.datetime(moment.year, moment.month, moment.day, tzinfo=tz)
        if output == "epoch_ms":  # the CRM convention: midnight in the business time zone
            return int(day.timestamp() * 1000)
        return day.strftime("%Y-%m-%d")

    return convert


# -- reading -------------------------------------------------------------------------------


def _open(path: Path, mapping: FileMapping) -> tuple[list[str], Iterator[tuple[int, dict[str, Any]]]]:
    """(header, rows as (line number, {column: value})) for CSV and Parquet alike.

    Parquet has no lines: the number is the 1-based row number.
    """
    fmt = mapping.format or ("parquet" if path.suffix.lower() in {".parquet", ".pq"} else "csv")
    if fmt == "parquet":
        try:
            pf = pq.ParquetFile(path)
        except Exception as exc:
            raise FileLoadError(path, f"not a readable Parquet file: {exc}") from exc

        def parquet_rows() -> Iterator[tuple[int, dict[str, Any]]]:
            row_no = 0
            for batch in pf.iter_batches(batch_size=10_000):
                for row in batch.to_pylist():
                    row_no += 1
                    yield row_no, row

        return pf.schema_arrow.names, parquet_rows()
    opts = mapping.csv
    raw = path.read_bytes()
    try:
        text = raw.decode(opts.encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileLoadError(path, f"not valid {opts.encoding}: {exc.reason}", line=line) from exc
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=opts.delimiter, quotechar=opts.quotechar, strict=True
    )
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise FileLoadError(path, "empty file (no header line)", line=1) from None
    except csv.Error as exc:
        raise FileLoadError(path, f"bad CSV: {exc}", line=reader.line_num) from exc

    def csv_rows() -> Iterator[tuple[int, dict[str, Any]]]:
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileLoadError(path, f"bad CSV: {exc}", line=reader.line_num) from exc
            if not values:
                continue  # a blank line
            if len(values) != len(header):
                raise FileLoadError(
                    path, f"{len(values)} fields where the header has {len(header)}", line=reader.line_num
                )
            yield reader.line_num, dict(zip(header, values, strict=True))

    return header, csv_rows()


def parse_file(path: str | Path, mapping: FileMapping) -> list[dict[str, Any]]:
    """The whole file as mapped records, or FileLoadError at the first bad value."""
    path = Path(path)
    converters = {name: _converter(col, mapping.timezone) for name, col in mapping.columns.items()}
    header, rows = _open(path, mapping)
    _check_header(path, header, mapping)
    records: list[dict[str, Any]] = []
    for line, row in rows:
        record: dict[str, Any] = {}
        for column, value in row.items():
            col = mapping.columns.get(column)
            if col is None:
                if mapping.unmapped == "keep" and not _empty(value):
                    record[column] = value
                continue
            if _empty(value):
                if col.required:
                    raise FileLoadError(path, "required value is empty", line=line, column=column)
                continue
            try:
                record[col.field] = converters[column](value)
            except (ValueError, TypeError, InvalidOperation, OverflowError) as exc:
                raise FileLoadError(
                    path, f"cannot read {value!r} as {col.type}{_fmt(col)}: {exc}", line=line, column=column
                ) from exc
        record.update(mapping.constants)
        if _empty(record.get(mapping.primary_key)):
            raise FileLoadError(
                path, f"no primary key ({mapping.primary_key})", line=line,
                column=_source_column(mapping, mapping.primary_key),
            )  # fmt: skip
        records.append(record)
    return records


def _fmt(col: ColumnMapping) -> str:
    return f" (format {col.format!r})" if col.format else ""


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _source_column(mapping: FileMapping, target: str) -> str:
    return next((name for name, col in mapping.columns.items() if col.field == target), target)


def _check_header(path: Path, header: list[str], mapping: FileMapping) -> None:
    missing = [name for name in mapping.columns if name not in header]
    if missing:
        raise FileLoadError(path, f"mapped column(s) not in the file: {missing}; header is {header}", line=1, column=missing[0])
    if mapping.unmapped == "error":
        extra = [name for name in header if name not in mapping.columns]
        if extra:
            raise FileLoadError(path, f"unmapped column(s): {extra}", line=1, column=extra[0])


# -- landing -------------------------------------------------------------------------------


def _keys(mapping: FileMapping) -> RecordKeys:
    pk, cursor, rule = mapping.primary_key, mapping.cursor, mapping.deleted
    return RecordKeys(
        record_id=lambda r: r.get(pk),
        cursor=(lambda r: r.get(cursor)) if cursor else (lambda r: None),
        deleted=(lambda r: r.get(rule.field) in rule.values) if rule else (lambda r: False),
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_file(path: str | Path, mapping: FileMapping | str | Path, warehouse_path: str) -> FileLoadResult:
    """Land one file (all or nothing); a file already in the ledger is skipped."""
    path = Path(path)
    mapping = mapping if isinstance(mapping, FileMapping) else load_mapping(mapping)
    sha = file_sha256(path)
    result = FileLoadResult(path=str(path), table=mapping.table, sha256=sha)
    con = warehouse.connect(warehouse_path)
    try:
        con.execute(f"create schema if not exists {RAW_SCHEMA}")
        con.execute(LEDGER_DDL)
        if con.execute(f"select 1 from {LEDGER_TABLE} where sha256 = ?", [sha]).fetchone():
            result.skipped = True
            return result
        records = parse_file(path, mapping)  # raises before anything is written
        result.rows_read = len(records)
        batch_id = landing.new_batch_id()
        batch = landing.page_to_arrow(records, source="file", stream=mapping.table, batch_id=batch_id, keys=_keys(mapping))
        landing.ensure_raw_table(con, mapping.table)
        con.execute("begin")
        try:
            result.rows_landed = landing.append_new_versions(
                con, mapping.table, batch, by_content=mapping.cursor is None
            )
            con.execute(
                f"insert into {LEDGER_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
                [sha, str(path), mapping.table, result.rows_read, result.rows_landed, batch_id, landing.utc_now()],
            )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        result.batch_id = batch_id
        return result
    finally:
        con.close()


def load_directory(
    directory: str | Path, mapping: FileMapping | str | Path, warehouse_path: str, pattern: str = "*"
) -> list[FileLoadResult]:
    """Every matching CSV/Parquet file in name order. A bad file lands nothing and is reported
    in its result's `error`; the other files still load. Fixed files load on the next call."""
    mapping = mapping if isinstance(mapping, FileMapping) else load_mapping(mapping)
    files = sorted(
        p for p in Path(directory).glob(pattern)
        if p.is_file() and p.suffix.lower() in {".csv", ".txt", ".parquet", ".pq"}
    )  # fmt: skip
    results = []
    for file in files:
        try:
            results.append(load_file(file, mapping, warehouse_path))
        except FileLoadError as exc:
            results.append(FileLoadResult(str(file), mapping.table, file_sha256(file), error=str(exc)))
    return results
