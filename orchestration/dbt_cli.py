"""`sfa-dbt`: dbt's own command line, run with Python's cyclic garbage collector off.

dbt allocates millions of small objects (the manifest, a Jinja context per node, an event per log
line) that live until the process exits, so each automatic collection walks a heap that is almost
all alive and frees almost nothing. `dbt build` with nothing to do on the sandbox at 500 leads,
medians of 3 alternated runs on one 2-core machine: 16.4 s wall with `dbt`, 14.7 s with this, for
60 MiB more peak memory (294 -> 354 MiB). dbt stays in one short process per command; the memory
is returned when it exits.

Once dbt's command has returned, the launcher runs the exit handlers (dbt-duckdb's closes the
DuckDB connection, which checkpoints the WAL into the database file; logging flushes its files),
flushes stdout and stderr and leaves with `os._exit`, skipping the interpreter's teardown: freeing
dbt's heap object by object took 0.8 s of every run (0.1 s this way; `dbt build` at 500 leads,
3 alternated runs each), and DuckDB's module, torn down with objects still alive, printed a
nanobind "leaked instances" report.

Compiled Jinja templates and the JSON schemas of dbt's config classes are kept between runs
(`orchestration/dbt_process_caches.py`): dbt computes them again in every process, ~1 CPU second of
each `dbt build` here and ~0.3 s before its first node. So is the code that dataclasses and mashumaro
generate for dbt's classes (~0.6 CPU s of every process). `orchestration/dbt_fast_paths.py` makes dbt's
log events, query-result typing and artifact writes cheaper with the same output: the events alone
took `dbt build` with nothing to do at 10,000 leads from 8.5 to 7.2 s (--log-level-file info) and
from 8.3 to 6.2 s (debug file log, dbt's default).

Same arguments and exit codes as `dbt`. SFA_DBT_GC=on keeps Python's default collector (to compare,
or for a project much larger than this one); SFA_DBT_FAST_PATHS=off keeps dbt's own code
for those.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from pathlib import Path

# The launcher beside this interpreter (a console script of this package), so nothing depends on
# an activated virtualenv or on PATH. Used by the Dagster assets, the dbt benchmark and the tests.
EXECUTABLE = Path(sys.executable).with_name("sfa-dbt")


def run() -> int:
    """dbt's CLI on sys.argv; returns its exit code."""
    if os.environ.get("SFA_DBT_GC", "off").lower() != "on":
        gc.disable()
    # mashumaro writes the to_dict/from_dict code of each of dbt's ~500 dataclasses as the class is
    # defined; lazily, only the ones a command uses pay for it, on first use (`sfa-dbt ls`: 1.81 ->
    # 1.68 s, medians of 5 alternated runs). A documented mashumaro option; results are the same.
    import mashumaro.config

    mashumaro.config.BaseConfig.lazy_compilation = True
    from orchestration import dbt_process_caches

    dbt_process_caches.install_generated_code_cache()
    from dbt.cli.main import cli

    from orchestration import dbt_fast_paths

    dbt_fast_paths.install()
    dbt_process_caches.install_jinja_cache()
    dbt_process_caches.install_schema_cache()

    # Imported modules and classes are never garbage: keep them out of any collection that still
    # runs (an explicit gc.collect() in a library, or SFA_DBT_GC=on).
    gc.freeze()
    try:
        cli()
    except SystemExit as exc:  # click ends every command this way
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    return 0


def exit_without_teardown(code: int) -> None:
    """Exit handlers, flushed stdio, then `os._exit(code)`: everything a normal exit does that
    anyone can observe, without freeing the heap."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed or broken pipe: nothing left to deliver
            pass
    os._exit(code)


def main() -> None:
    exit_without_teardown(run())


if __name__ == "__main__":
    main()
