"""Extraction benchmark: raw HTTP ceiling vs our extractor vs dlt's rest_api, same sandbox.

`sfa bench extract --scale N [--json]` starts one sandbox, then runs each variant in its own
subprocess against the same CRM leads endpoint (so each peak RSS is that variant's alone):

- raw:  a bare requests + JSON loop over the leads query (`_id` paging) that lands nothing;
- ours: `extract_stream("crm_leads", ...)` into a fresh DuckDB file;
- dlt:  dlt's `rest_api` source with a POST-body `_id` paginator into a fresh DuckDB file
        (optionally capped at `--dlt-rows`, since it is much slower; the table says so).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Benchmarks of the extractors.", no_args_is_help=True)

LEADS_PATH = "/cgi/crm/v2/data/query"
TOKEN_PATH = "/cgi/corpAccessToken/get/V2"
PAGE = 100


@app.callback()
def _group() -> None:
    """Benchmarks (a group, so `python -m extractors.bench extract` keeps its subcommand)."""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _token(session: Any, url: str) -> dict[str, Any]:
    from extractors.config import load_config

    cfg = load_config(sandbox_url=url)
    body = {
        "appId": cfg.secret("FXIAOKE_APP_ID").get_secret_value(),
        "appSecret": cfg.secret("FXIAOKE_APP_SECRET").get_secret_value(),
        "permanentCode": cfg.secret("FXIAOKE_PERMANENT_CODE").get_secret_value(),
    }
    answer = session.post(url + TOKEN_PATH, json=body, timeout=30).json()
    auth = {"corpAccessToken": answer["corpAccessToken"], "corpId": answer.get("corpId")}
    if os.environ.get("FXIAOKE_OPEN_USER_ID"):
        auth["currentOpenUserId"] = os.environ["FXIAOKE_OPEN_USER_ID"]
    return auth


def _query(after_id: str | None) -> dict[str, Any]:
    filters = [] if after_id is None else [{"field_name": "_id", "field_values": [after_id], "operator": "GT"}]
    return {
        "data": {
            "dataObjectApiName": "LeadsObj",
            "find_explicit_total_num": False,
            "search_query_info": {
                "offset": 0, "limit": PAGE, "filters": filters,
                "orders": [{"fieldName": "_id", "isAsc": True}], "fieldProjection": [],
            },
        }
    }  # fmt: skip


def _variant_raw(url: str, _cap: int | None) -> int:
    import orjson
    import requests

    session = requests.Session()
    auth = _token(session, url)
    rows, after = 0, None
    while True:
        resp = session.post(
            url + LEADS_PATH, data=orjson.dumps({**auth, **_query(after)}),
            headers={"Content-Type": "application/json"}, timeout=60,
        )  # fmt: skip
        records = orjson.loads(resp.content)["data"]["dataList"]
        rows += len(records)
        if len(records) < PAGE:
            return rows
        after = records[-1]["_id"]


def _variant_ours(url: str, _cap: int | None) -> int:
    from extractors.config import load_config
    from extractors.extract import extract_stream

    with tempfile.TemporaryDirectory() as tmp:
        result = extract_stream("crm_leads", load_config(sandbox_url=url), str(Path(tmp) / "wh.duckdb"))
    return result.rows_landed


def _variant_dlt(url: str, cap: int | None) -> int:
    return _run_dlt(url, cap, loader_file_format=None)


def _variant_dlt_jsonl(url: str, cap: int | None) -> int:
    # jsonl was dlt's fastest loader format into DuckDB in a probe (2-3x its default).
    return _run_dlt(url, cap, loader_file_format="jsonl")


def _run_dlt(url: str, cap: int | None, loader_file_format: str | None) -> int:
    import dlt
    import requests
    from dlt.sources.helpers.rest_client.paginators import BasePaginator
    from dlt.sources.rest_api import rest_api_source

    class FxiaokeIdPaginator(BasePaginator):
        """`_id GT <last id>` written into the POST body; stop on a short page."""

        def __init__(self) -> None:
            super().__init__()
            self.after: str | None = None

        def update_state(self, response: Any, data: list[Any] | None = None) -> None:
            records = data or []
            if len(records) < PAGE:
                self._has_next_page = False
            else:
                self.after = records[-1]["_id"]

        def update_request(self, request: Any) -> None:
            info = request.json["data"]["search_query_info"]
            info["filters"] = [{"field_name": "_id", "field_values": [self.after], "operator": "GT"}]

    auth = _token(requests.Session(), url)
    source = rest_api_source(
        {
            "client": {"base_url": url},
            "resources": [
                {
                    "name": "crm_leads",
                    "primary_key": "_id",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": LEADS_PATH,
                        "method": "POST",
                        "json": {**auth, **_query(None)},
                        "data_selector": "data.dataList",
                        "paginator": FxiaokeIdPaginator(),
                    },
                }
            ],
        }
    )
    if cap:
        source = source.add_limit(max(1, cap // PAGE))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
        pipeline = dlt.pipeline(
            pipeline_name="bench_dlt",
            pipelines_dir=str(Path(tmp) / "pipelines"),
            destination=dlt.destinations.duckdb(str(Path(tmp) / "dlt.duckdb")),
            dataset_name="raw_dlt",
        )
        info = pipeline.run(source, loader_file_format=loader_file_format)
        info.raise_on_failed_jobs()
        with pipeline.sql_client() as client:
            rows = client.execute_sql("select count(*) from crm_leads")[0][0]
    return int(rows)


VARIANTS = {"raw": _variant_raw, "ours": _variant_ours, "dlt": _variant_dlt, "dlt_jsonl": _variant_dlt_jsonl}
LABELS = {
    "raw": "raw ceiling (requests + JSON, lands nothing)",
    "ours": "ours: extract_stream -> DuckDB",
    "dlt": "dlt 1.31 rest_api -> DuckDB (defaults)",
    "dlt_jsonl": "dlt 1.31 rest_api -> DuckDB (jsonl loader)",
}


# The child entry point lives on its own app, so `app` has exactly one command (`extract`)
# and `sfa bench extract` can mount it flat.
_child_app = typer.Typer(add_completion=False)


@_child_app.command()
def run_variant(name: str, url: str, cap: int = 0) -> None:
    """Child process: run one variant, print its figures as one JSON line."""
    # Imports are paid before the clock starts: a long-lived worker has them loaded already.
    import duckdb  # noqa: F401
    import orjson  # noqa: F401
    import pandas  # noqa: F401  (pyarrow imports it lazily on first use)
    import pyarrow  # noqa: F401
    import requests  # noqa: F401

    if name == "ours":
        import extractors.extract  # noqa: F401
    if name.startswith("dlt"):
        import dlt  # noqa: F401
        from dlt.sources.rest_api import rest_api_source  # noqa: F401
    started = time.perf_counter()
    rows = VARIANTS[name](url, cap or None)
    seconds = time.perf_counter() - started
    print(json.dumps({"variant": name, "rows": rows, "seconds": seconds, "peak_rss_mb": _peak_rss_mb()}))


def _run_child(name: str, url: str, cap: int | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "extractors.bench", "_variant", name, url, "--cap", str(cap or 0)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench variant {name} failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["rows_per_second"] = figures["rows"] / figures["seconds"] if figures["seconds"] else 0.0
    figures["capped_at"] = cap
    figures["label"] = LABELS[name]
    return figures


@app.command("extract")
def bench_extract(
    scale: Annotated[float, typer.Option(help="sandbox scale (100 = 1,000,000 leads)")] = 1.0,
    seed: Annotated[int, typer.Option(help="sandbox seed")] = 42,
    dlt_rows: Annotated[
        int, typer.Option(help="cap dlt at this many rows (0 = no cap); it is much slower")
    ] = 20_000,
    variants: Annotated[
        str, typer.Option(help="comma-separated subset of raw,ours,dlt,dlt_jsonl")
    ] = "raw,ours,dlt,dlt_jsonl",
    as_json: Annotated[bool, typer.Option("--json", help="print the figures as JSON")] = False,
) -> None:
    """Rows/s and peak RSS of the raw ceiling, our extractor and dlt on the CRM leads stream."""
    from extractors.sandbox import SandboxProcess

    console = Console(stderr=True)
    results: list[dict[str, Any]] = []
    with SandboxProcess(seed=seed, scale=scale) as sandbox:
        for name in [v.strip() for v in variants.split(",") if v.strip()]:
            console.log(f"bench {name} against {sandbox.url} ...")
            results.append(_run_child(name, sandbox.url, dlt_rows if name.startswith("dlt") else None))
    _add_ratios(results)
    if as_json:
        print(json.dumps({"scale": scale, "seed": seed, "results": results}, indent=2))
        return
    _print_table(results, scale)


def _add_ratios(results: list[dict[str, Any]]) -> None:
    by = {r["variant"]: r for r in results}
    ours = by.get("ours")
    for r in results:
        if "raw" in by and by["raw"]["rows_per_second"]:
            r["vs_raw_ceiling"] = r["rows_per_second"] / by["raw"]["rows_per_second"]
        if ours and r["variant"].startswith("dlt") and r["rows_per_second"]:
            r["ours_vs_this"] = ours["rows_per_second"] / r["rows_per_second"]


def _print_table(results: list[dict[str, Any]], scale: float) -> None:
    table = Table(title=f"CRM leads extraction, sandbox scale {scale:g} (same server, one subprocess each)")
    for col in ("variant", "rows", "seconds", "rows/s", "vs raw", "peak RSS MB", "note"):
        table.add_column(col, justify="left" if col in ("variant", "note") else "right")
    for r in results:
        notes = []
        if r.get("capped_at"):
            notes.append(f"capped at {r['capped_at']:,} rows")
        if "ours_vs_this" in r:
            notes.append(f"ours is {r['ours_vs_this']:.1f}x faster")
        note = "; ".join(notes)
        table.add_row(
            r["label"], f"{r['rows']:,}", f"{r['seconds']:.1f}", f"{r['rows_per_second']:,.0f}",
            f"{r.get('vs_raw_ceiling', 0):.0%}", f"{r['peak_rss_mb']:.0f}", note,
        )  # fmt: skip
    Console(width=max(Console().width, 130)).print(table)


if __name__ == "__main__":
    if sys.argv[1:2] == ["_variant"]:
        _child_app(args=sys.argv[2:])
    else:
        app()
