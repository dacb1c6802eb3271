"""Run the sandbox for tests and the pipeline runner.

    with SandboxProcess(seed=7, scale=0.1) as sb:      # a subprocess (own GIL, own memory)
        sb.url; sb.truth(); sb.advance()

    with SandboxThread(seed=7, scale=0.1) as sb:       # same API, in a thread of this process
        ...
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType

import requests

from .server import SandboxHTTPServer, make_server
from .world import World

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Client:
    url: str

    def truth(self) -> dict:
        """The live truth manifest (includes the faults served so far)."""
        r = requests.get(f"{self.url}/_sandbox/truth", timeout=120)
        r.raise_for_status()
        return r.json()

    def advance(self) -> dict:
        """Move the world to the next epoch; returns {epoch, as_of, changes}."""
        r = requests.post(f"{self.url}/_sandbox/advance", timeout=300)
        r.raise_for_status()
        return r.json()

    def env(self) -> dict[str, str]:
        """Environment for connectors pointed at this sandbox (sandbox credentials only)."""
        return {"FXIAOKE_APP_ID": "FSAID_sandbox", "FXIAOKE_APP_SECRET": "sandbox-secret",
                "FXIAOKE_PERMANENT_CODE": "sandbox-code", "HUBSPOT_ACCESS_TOKEN": "sandbox-token",
                "ODOO_DB": "sandbox", "ODOO_LOGIN": "sync@sandbox", "ODOO_API_KEY": "sandbox-key"}


class SandboxProcess(_Client):
    def __init__(self, seed: int = 42, scale: float = 1.0, faults: str = "none",
                 truth_path: str | Path | None = None, token_ttl: int | None = None, port: int = 0,
                 startup_timeout: float = 300.0, warm: tuple[str, ...] = (), cache_mb: int | None = None) -> None:
        self.seed, self.scale, self.faults = seed, scale, faults
        self.warm, self.cache_mb = warm, cache_mb
        self.token_ttl, self.port, self.startup_timeout = token_ttl, port, startup_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="sfa-sandbox-")
        self.truth_path = Path(truth_path) if truth_path else Path(self._tmp.name) / "truth.json"
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.pid = 0

    def start(self) -> SandboxProcess:
        ready = Path(self._tmp.name) / "ready.json"
        cmd = [sys.executable, "-m", "extractors.sandbox.cli", "serve", "--port", str(self.port),
               "--seed", str(self.seed), "--scale", str(self.scale), "--faults", self.faults,
               "--truth", str(self.truth_path), "--ready-file", str(ready)]
        if self.token_ttl is not None:
            cmd += ["--token-ttl", str(self.token_ttl)]
        for stream in self.warm:
            cmd += ["--warm", stream]
        if self.cache_mb is not None:
            cmd += ["--cache-mb", str(self.cache_mb)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
        self._log = open(Path(self._tmp.name) / "server.log", "wb")
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while not ready.exists():
            if self.proc.poll() is not None:
                log = (Path(self._tmp.name) / "server.log").read_text(errors="replace")
                raise RuntimeError(f"sandbox exited with {self.proc.returncode} before listening:\n{log[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"sandbox not ready after {self.startup_timeout} s")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.url, self.pid = info["url"], info["pid"]
        return self

    def truth_file(self) -> dict:
        return json.loads(self.truth_path.read_text())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        self._tmp.cleanup()


class SandboxThread(_Client):
    """In-process variant: cheaper to start; shares this process's GIL and memory."""

    def __init__(self, seed: int = 42, scale: float = 1.0, faults: str = "none",
                 truth_path: str | Path | None = None, token_ttl: int | None = None,
                 world: World | None = None) -> None:
        self.world = world or World(seed, scale)
        self.server: SandboxHTTPServer = make_server(self.world, faults=faults, token_ttl=token_ttl,
                                                     truth_path=truth_path)
        self.url = self.server.url
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    def __enter__(self) -> SandboxThread:
        self._thread.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)
