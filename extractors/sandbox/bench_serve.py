"""How fast and how lean the sandbox serves: records/s per stream and server memory.

    python -m extractors.sandbox.bench_serve --scale 10                 # CRM leads, twice
    python -m extractors.sandbox.bench_serve --scale 100 --all-streams  # every page of every stream

Starts the CLI server as a subprocess (SandboxProcess), pulls with one keep-alive client
(the raw ceiling: no parsing beyond JSON, no landing), samples the server's RSS with psutil
every 50 ms, and prints a table.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit
from typing import Annotated

import orjson
import psutil
import typer
from rich.console import Console
from rich.table import Table

from .process import SandboxProcess
from .pull import SandboxClient

app = typer.Typer(add_completion=False)


def raw_crm_pull(url: str, api: str = "LeadsObj", limit: int = 100) -> tuple[int, int]:
    """`_id GT` paging with http.client + orjson: the leanest client, so the server is the bound."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)

    def post(path: str, obj: dict) -> bytes:
        conn.request("POST", path, orjson.dumps(obj), {"Content-Type": "application/json"})
        return conn.getresponse().read()

    tok = orjson.loads(post("/cgi/corpAccessToken/get/V2", {"appId": "FSAID_sandbox", "appSecret": "sandbox-secret",
                                                            "permanentCode": "sandbox-code"}))
    auth = {"corpAccessToken": tok["corpAccessToken"], "corpId": tok["corpId"]}
    last, n, req = None, 0, 0
    while True:
        f = [{"field_name": "_id", "operator": "GT", "field_values": [last]}] if last else []
        ans = orjson.loads(post("/cgi/crm/v2/data/query", {**auth, "data": {
            "dataObjectApiName": api, "search_query_info": {
                "offset": 0, "limit": limit, "filters": f, "orders": [{"fieldName": "_id", "isAsc": True}]}}}))
        req += 1
        rows = ans["data"]["dataList"]
        n += len(rows)
        if len(rows) < limit:
            conn.close()
            return n, req
        last = rows[-1]["_id"]


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            time.sleep(0.05)

    def now(self) -> int:
        return self.proc.memory_info().rss

    def __enter__(self) -> RssSampler:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


@app.command()
def main(
    scale: Annotated[float, typer.Option(help="World scale (leads = 10,000 x scale).")] = 10.0,
    seed: Annotated[int, typer.Option()] = 42,
    all_streams: Annotated[bool, typer.Option(help="Pull every page of every stream once.")] = False,
    rounds: Annotated[int, typer.Option(help="Pulls of crm_leads (without --all-streams).")] = 2,
    warm: Annotated[bool, typer.Option(help="Start the server with --warm crm_leads.")] = False,
    cache_mb: Annotated[int, typer.Option(help="Server page cache budget.")] = 192,
) -> None:
    console = Console(width=160)
    table = Table(title=f"sandbox serving, scale {scale:g} (one keep-alive client, CLI server subprocess)")
    for col in ("stream", "records", "= truth", "requests", "seconds", "records/s", "records/server-CPU-s",
                "server RSS MiB"):
        table.add_column(col, justify="right" if col != "stream" else "left")
    t0 = time.perf_counter()
    with SandboxProcess(seed=seed, scale=scale, startup_timeout=900, warm=("crm_leads",) if warm else (),
                        cache_mb=cache_mb) as sb:
        startup = time.perf_counter() - t0
        client = SandboxClient(sb.url, timeout=600, lean=True)
        with RssSampler(sb.pid) as rss:
            start_rss = rss.now()
            served = sb.truth()["served_counts"]
            plan = list(served) if all_streams else ["crm_leads"] * rounds
            total_n, total_t, total_cpu = 0, 0.0, 0.0
            for stream in plan:
                before = client.attempts
                cpu0 = sum(rss.proc.cpu_times()[:2])
                t = time.perf_counter()
                if all_streams:
                    n = sum(len(p) for p in client.pages(stream))
                else:
                    n, req = raw_crm_pull(sb.url)
                    client.attempts += req
                dt = time.perf_counter() - t
                cpu = sum(rss.proc.cpu_times()[:2]) - cpu0
                total_n, total_t, total_cpu = total_n + n, total_t + dt, total_cpu + cpu
                table.add_row(stream, f"{n:,}", "yes" if n == served[stream] else f"NO ({served[stream]:,})",
                              f"{client.attempts - before:,}", f"{dt:.2f}",
                              f"{n / dt:,.0f}" if dt else "-", f"{n / cpu:,.0f}" if cpu else "-",
                              f"{rss.now() / 2**20:,.0f}")
            table.add_row("TOTAL", f"{total_n:,}", "", f"{client.attempts:,}", f"{total_t:.2f}",
                          f"{total_n / total_t:,.0f}" if total_t else "-",
                          f"{total_n / total_cpu:,.0f}" if total_cpu else "-", f"peak {rss.peak / 2**20:,.0f}")
    console.print(table)
    console.print(f"server start (world build + truth) {startup:.1f} s; RSS after start {start_rss / 2**20:,.0f} MiB; "
                  f"peak RSS {rss.peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    app()
