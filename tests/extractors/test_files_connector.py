"""File-drop connector: CSV and Parquet happy paths, all-or-nothing on bad input, the ledger."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from extractors.files import FileLoadError, load_directory, load_file, load_mapping

MAPPING = Path(__file__).parents[2] / "extractors" / "file_mappings" / "example_leads.yaml"
HEADER = "Lead ID,Full Name,Company,Email,Mobile,Job Title,Employees,Campaign,Created,Updated (ms),MQL Date,Deleted,Ignored"
ROWS = [
    "L1,张伟,上海云启科技有限公司,zw@example.cn,13800138000,CTO,120,C9,2026-03-01 09:30:00,1772328600000,02/03/2026,false,x",
    'L2,"Smith, Anna",Acme Co.,anna@acme.com,,VP Sales,,C9,2026-03-02 10:00:00,1772416800000,,true,y',
]


def _csv(tmp_path: Path, name: str, rows: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _raw(wh: str) -> list[dict]:
    with duckdb.connect(wh) as con:
        rows = con.execute(
            "select _source, _record_id, _cursor, _deleted, _record from raw.crm_leads order by _record_id"
        ).fetchall()
    return [{"source": s, "id": i, "cursor": c, "deleted": d, "record": orjson.loads(r)} for s, i, c, d, r in rows]


def test_csv_lands_mapped_records_once(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    path = _csv(tmp_path, "leads.csv", ROWS)
    result = load_file(path, MAPPING, wh)
    assert (result.rows_read, result.rows_landed, result.skipped) == (2, 2, False)
    rows = _raw(wh)
    assert [r["id"] for r in rows] == ["L1", "L2"]
    assert {r["source"] for r in rows} == {"file"}
    assert [r["deleted"] for r in rows] == [False, True]
    first = rows[0]["record"]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert first["create_time"] == int(dt.datetime(2026, 3, 1, 9, 30, tzinfo=shanghai).timestamp() * 1000)
    assert first["mql_time__c"] == int(dt.datetime(2026, 3, 2, tzinfo=shanghai).timestamp() * 1000)
    assert first["employee_count__c"] == 120 and first["source"] == "trade_show"
    assert "Ignored" not in first and "mobile" not in rows[1]["record"]  # dropped / empty
    assert rows[1]["record"]["name"] == "Smith, Anna"
    assert rows[0]["cursor"] == "1772328600000"

    again = load_file(path, MAPPING, wh)  # same content: the ledger says done
    assert again.skipped and len(_raw(wh)) == 2


def test_parquet_lands_like_csv(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    table = pa.table(
        {
            "Lead ID": ["P1"],
            "Full Name": ["李娜"],
            "Company": ["北京数联"],
            "Email": [None],
            "Mobile": ["+8613900000000"],
            "Job Title": ["经理"],
            "Employees": [35],
            "Campaign": ["C1"],
            "Created": [dt.datetime(2026, 5, 1, 8, 0)],
            "Updated (ms)": [1777593600000],
            "MQL Date": [None],
            "Deleted": [False],
        }
    )
    path = tmp_path / "drop.parquet"
    pq.write_table(table, path)
    result = load_file(path, MAPPING, wh)
    assert result.rows_landed == 1
    record = _raw(wh)[0]["record"]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert record["create_time"] == int(dt.datetime(2026, 5, 1, 8, tzinfo=shanghai).timestamp() * 1000)
    assert record["last_modified_time"] == 1777593600000 and "email" not in record


def test_malformed_file_lands_nothing_and_names_line_and_column(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    bad_row = ROWS[1].replace("VP Sales,,", "VP Sales,many,")
    path = _csv(tmp_path, "bad.csv", [ROWS[0], bad_row])
    with pytest.raises(FileLoadError) as err:
        load_file(path, MAPPING, wh)
    assert err.value.line == 3 and err.value.column == "Employees"
    assert "bad.csv" in str(err.value) and "'many'" in str(err.value)
    with duckdb.connect(wh) as con:
        tables = {t for (t,) in con.execute("select table_name from information_schema.tables").fetchall()}
        assert "crm_leads" not in tables  # parsing failed before anything was created or written
        assert con.execute("select count(*) from raw._file_ledger").fetchone()[0] == 0


def test_directory_loads_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    drops = tmp_path / "drops"
    drops.mkdir()
    _csv(drops, "a.csv", [ROWS[0]])
    _csv(drops, "b.csv", [ROWS[1].replace("2026-03-02 10:00:00", "yesterday")])
    results = load_directory(drops, MAPPING, wh)
    assert [r.rows_landed for r in results] == [1, 0]
    assert results[1].error and "line 2" in results[1].error and "'Created'" in results[1].error
    assert [r["id"] for r in _raw(wh)] == ["L1"]


def test_missing_column_and_bad_mapping_are_named(tmp_path: Path) -> None:
    wh = str(tmp_path / "wh.duckdb")
    path = tmp_path / "short.csv"
    path.write_text("Lead ID,Full Name\nL9,X\n", encoding="utf-8")
    with pytest.raises(FileLoadError, match=r"short.csv, line 1, column 'Company'"):
        load_file(path, MAPPING, wh)
    bad_mapping = tmp_path / "m.yaml"
    bad_mapping.write_text("table: crm_leads\nprimary_key: id\ncolumns: {A: {field: id, type: money}}\n")
    with pytest.raises(FileLoadError, match="invalid mapping"):
        load_mapping(bad_mapping)


def test_types_and_outputs_for_marketing_and_erp_shapes(tmp_path: Path) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "table: mkt_form_submissions\nprimary_key: id\ncursor: updatedAt\nunmapped: error\n"
        "columns:\n"
        "  id: {field: id}\n"
        "  amount: {field: amount, type: decimal, scale: 2}\n"
        "  at: {field: updatedAt, type: datetime, format: '%Y/%m/%d %H:%M', output: iso}\n"
        "  odoo: {field: write_date, type: datetime, format: epoch_s, output: odoo}\n"
        "  ok: {field: ok, type: boolean}\n"
        "constants: {archived: false}\n",
        encoding="utf-8",
    )
    path = tmp_path / "subs.csv"
    path.write_text("id,amount,at,odoo,ok\n7,\"1,234.5\",2026/03/01 09:30,1772328600,是\n", encoding="utf-8")
    wh = str(tmp_path / "wh.duckdb")
    assert load_file(path, mapping, wh).rows_landed == 1
    with duckdb.connect(wh) as con:
        cursor, record = con.execute("select _cursor, _record from raw.mkt_form_submissions").fetchone()
    record = orjson.loads(record)
    assert record == {
        "id": "7", "amount": "1234.50", "updatedAt": "2026-03-01T01:30:00.000Z",
        "write_date": "2026-03-01 01:30:00", "ok": True, "archived": False,
    }  # fmt: skip
    assert cursor == "2026-03-01T01:30:00.000Z"
    extra = tmp_path / "extra.csv"
    extra.write_text("id,amount,at,odoo,ok,surprise\n8,1,2026/03/01 09:30,1,no,x\n", encoding="utf-8")
    with pytest.raises(FileLoadError, match=r"line 1, column 'surprise': unmapped"):
        load_file(extra, mapping, wh)
