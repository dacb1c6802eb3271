"""How fast and how lean the sandbox serves: records/s per stream and server memory.

    python -m extractors.sandbox.bench_serve --scale 10                 # CRM leads, twice
    python -m extractors.sandbox.bench_serve --scale 100 --all-streams  # every page of every stream

Starts the CLI server as a subprocess (SandboxProcess), pulls with one keep-alive client
(the raw ceiling: no parsing beyond JSON, no landing), samples the server's RSS with psutil
every 50 ms, and prints a table.
"""

from __future__ import annotations

import threading
import time
from typing import Annotated

import psutil
import typer
from rich.console import Console
from rich.table import Table

from .process import SandboxProcess
from .pull import SandboxClient

app = typer.Typer(add_completion=False)


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
) -> None:
    console = Console()
    table = Table(title=f"sandbox serving, scale {scale:g} (one keep-alive client, CLI server subprocess)")
    for col in ("stream", "records", "requests", "seconds", "records/s", "server RSS MiB"):
        table.add_column(col, justify="right" if col != "stream" else "left")
    t0 = time.perf_counter()
    with SandboxProcess(seed=seed, scale=scale, startup_timeout=900) as sb:
        startup = time.perf_counter() - t0
        client = SandboxClient(sb.url)
        with RssSampler(sb.pid) as rss:
            start_rss = rss.now()
            plan = list(sb.truth()["served_counts"]) if all_streams else ["crm_leads"] * rounds
            total_n, total_t = 0, 0.0
            for stream in plan:
                before = client.attempts
                t = time.perf_counter()
                n = sum(len(p) for p in client.pages(stream))
                dt = time.perf_counter() - t
                total_n, total_t = total_n + n, total_t + dt
                table.add_row(stream, f"{n:,}", f"{client.attempts - before:,}", f"{dt:.2f}",
                              f"{n / dt:,.0f}" if dt else "-", f"{rss.now() / 2**20:,.0f}")
            table.add_row("TOTAL", f"{total_n:,}", f"{client.attempts:,}", f"{total_t:.2f}",
                          f"{total_n / total_t:,.0f}" if total_t else "-", f"peak {rss.peak / 2**20:,.0f}")
    console.print(table)
    console.print(f"server start (world build + truth) {startup:.1f} s; RSS after start {start_rss / 2**20:,.0f} MiB; "
                  f"peak RSS {rss.peak / 2**20:,.0f} MiB")


if __name__ == "__main__":
    app()
