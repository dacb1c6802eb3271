"""`sfa sandbox ...`: serve the sandbox source systems, or print a world's truth.

    python -m extractors.sandbox.cli serve --port 0 --seed 7 --scale 0.1 --truth truth.json
"""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import orjson
import typer

from .faults import PROFILES
from .server import make_server
from .world import World

app = typer.Typer(help="Sandbox source systems (CRM, marketing, ERP) on loopback.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Sandbox source systems (CRM Fxiaoke v2, HubSpot-style marketing, Odoo JSON-RPC ERP)."""


@app.command()
def serve(
    port: int = typer.Option(0, help="TCP port; 0 picks a free one."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind (keep loopback)."),
    seed: int = typer.Option(42, help="World seed: same seed, same data."),
    scale: float = typer.Option(1.0, help="Size: leads = round(10,000 x scale)."),
    faults: str = typer.Option("none", help=f"Fault profile: {'|'.join(PROFILES)}."),
    truth: Path | None = typer.Option(None, help="Write the truth manifest here (and after each advance)."),
    token_ttl: int | None = typer.Option(None, help="CRM token lifetime in seconds (default 7200)."),
    ready_file: Path | None = typer.Option(None, help='Write {"url","port","pid"} JSON here once listening.'),
    verbose: bool = typer.Option(False, help="Log every request to stderr."),
    cache_mb: int = typer.Option(192, help="Budget for cached serialised pages (repeat pulls are cheap)."),
    warm: list[str] = typer.Option([], help="Pre-serialise 100-row pages of this stream before ready (repeatable)."),
) -> None:
    """Serve all three APIs from one port until SIGTERM/SIGINT."""
    if faults not in PROFILES:
        raise typer.BadParameter(f"--faults must be one of {', '.join(PROFILES)}")
    world = World(seed, scale)
    server = make_server(world, host=host, port=port, faults=faults, token_ttl=token_ttl, truth_path=truth,
                         verbose=verbose, cache_mb=cache_mb)
    for stream in warm:
        world.view(stream)  # unknown names fail here, before listening
        server.app.warm(stream)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if ready_file:
        info = {"url": server.url, "port": server.server_address[1], "pid": os.getpid()}
        tmp = ready_file.with_suffix(ready_file.suffix + ".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(ready_file)
    typer.echo(f"sandbox listening on {server.url} (seed={seed} scale={scale} faults={faults})", err=False)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.app.write_truth()  # final fault counts
        server.server_close()


@app.command("truth")
def truth_cmd(
    seed: int = typer.Option(42), scale: float = typer.Option(1.0),
    epochs: int = typer.Option(0, help="Advance this many epochs first."),
    out: Path | None = typer.Option(None, help="File to write; stdout if absent."),
) -> None:
    """Print (or write) the truth manifest of a world without serving it."""
    world = World(seed, scale)
    for _ in range(epochs):
        world.advance()
    data = orjson.dumps(world.truth(), option=orjson.OPT_INDENT_2)
    if out:
        out.write_bytes(data)
    else:
        typer.echo(data.decode())


if __name__ == "__main__":
    app()
