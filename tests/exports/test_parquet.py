import json

import duckdb
import pyarrow.parquet as pq
import pytest

from exports.parquet import MANIFEST_NAME, export_relations


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.won as select i as id, (i * 1.25)::decimal(18,2) as amount from range(1000) t(i)")
    con.execute("create table marts.empty_mart (id integer)")
    con.close()
    return path


def test_every_mart_exported_with_matching_rows_and_manifest(warehouse, tmp_path):
    out = tmp_path / "exports"
    manifest = export_relations(warehouse, out)
    by_name = {t["relation"]: t for t in manifest["tables"]}
    assert set(by_name) == {"marts.won", "marts.empty_mart"}
    won = pq.read_table(out / "won.parquet")
    assert won.num_rows == by_name["marts.won"]["rows"] == 1000
    assert sum(won.column("amount").to_pylist()) == sum(i * 1.25 for i in range(1000))
    assert by_name["marts.empty_mart"]["rows"] == 0
    on_disk = json.loads((out / MANIFEST_NAME).read_text())
    assert on_disk["tables"] == manifest["tables"]
    assert not list(out.glob(".*.tmp"))


def test_csv_export_and_unknown_format(warehouse, tmp_path):
    manifest = export_relations(warehouse, tmp_path / "csv", ["marts.won"], fmt="csv")
    lines = (tmp_path / "csv" / "won.csv").read_text().splitlines()
    assert lines[0] == "id,amount" and len(lines) == 1001
    assert manifest["tables"][0]["columns"][1]["name"] == "amount"
    with pytest.raises(ValueError, match="unknown export format"):
        export_relations(warehouse, tmp_path / "x", fmt="xlsx")
