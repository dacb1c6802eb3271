"""What every dbt process computes again from the same inputs, kept between processes (used by
`sfa-dbt`, which installs both caches before dbt starts).

- Compiled Jinja templates. dbt renders every model, test and macro through
  `Environment.from_string`, which parses the template and compiles the generated Python anew in
  every process: ~540 compilations and ~1 CPU second of each `dbt build` of this project, whatever
  the data size. Jinja's own `BytecodeCache` keeps such code objects between processes, but only
  for templates loaded through a loader, which dbt does not use. This does the same one level down:
  `Environment.compile` looks the template up by a digest of everything the generated code depends
  on (the environment's class, code generator, extensions and syntax options, the template's name,
  file name and source, and the Python, Jinja and dbt-common versions) and returns the marshalled
  code object if it has one. With dbt's macro debugging on (`DBT_MACRO_DEBUGGING`), which writes
  the generated source out as it compiles, no template is cached.
- JSON schemas of dbt's config classes (`dbtClassMixin.json_schema`), which dbt builds from the
  classes' type hints to validate the profile, project and node configs: ~0.3 s at the start of
  every command, before anything else can run (7 classes). Kept by class, the file its class is
  defined in (and that file's modification time) and the dbt-core, dbt-common, dbt-adapters and
  mashumaro versions.
- Code that dataclasses and mashumaro generate and `exec` for dbt's classes (each dataclass's
  `__init__`, `__eq__`...; each serializer): ~3,400 compilations, ~0.6 CPU s of every process, most
  of it while dbt is imported. Kept by digest of the source and the `__future__` flags of the module
  that runs it; source naming a helper by a fresh uuid (mashumaro does for some) is not kept.

Each cache is one file, rewritten (atomically) at exit when the process computed something new;
entries the process did not use are kept until the file holds more than `MAX_ENTRIES`. A file
that cannot be read is ignored and replaced. `SFA_DBT_CACHE=off` turns all three off; the files live in
`SFA_DBT_CACHE_DIR` (default `$XDG_CACHE_HOME/sfa-dbt`, else `~/.cache/sfa-dbt`).
"""

from __future__ import annotations

import __future__
import atexit
import functools
import hashlib
import importlib.metadata
import marshal
import os
import pickle
import re
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Callable

MAX_ENTRIES = 10_000


def cache_dir() -> Path:
    configured = os.environ.get("SFA_DBT_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "sfa-dbt"


def _versions(*packages: str) -> str:
    return "-".join([sys.implementation.cache_tag, *(importlib.metadata.version(p) for p in packages)])


def _turned_off() -> bool:
    return os.environ.get("SFA_DBT_CACHE", "on").lower() == "off"


class CacheFile:
    """Marshalled values by digest, loaded from and saved to one file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: dict[bytes, bytes] = self._load()
        self.used: set[bytes] = set()
        self.hits = 0
        self.misses = 0

    def _load(self) -> dict[bytes, bytes]:
        try:
            with open(self.path, "rb") as handle:
                entries = pickle.load(handle)
        except Exception:  # pickle raises more than its own errors on a damaged file (ImportError, OverflowError...)
            return {}
        return entries if isinstance(entries, dict) else {}

    def get(self, key: bytes, kind: type):
        """The value kept for `key` if it unmarshals to a `kind` (a hit), else None."""
        self.used.add(key)
        stored = self.entries.get(key)
        if stored is None:
            return None
        try:
            value = marshal.loads(stored)
        except (EOFError, ValueError, TypeError):
            return None
        if not isinstance(value, kind):
            return None
        self.hits += 1
        return value

    def put(self, key: bytes, value) -> None:
        """Keep `value` for the next processes; ValueError if marshal cannot write it."""
        self.entries[key] = marshal.dumps(value)
        self.misses += 1

    def get_or_compute(self, key: bytes, kind: type, compute: Callable[[], object]):
        """The value kept for `key`, else `compute()`, kept for the next processes when marshal can
        write it (else computed again next time)."""
        value = self.get(key, kind)
        if value is None:
            value = compute()
            try:
                self.put(key, value)
            except ValueError:
                pass
        return value

    def save(self) -> None:
        """Write the file if this process computed anything new (other processes' entries in the
        file meanwhile are lost to the last writer; they are computed again when next needed)."""
        if not self.misses:
            return
        entries = self.entries
        if len(entries) > MAX_ENTRIES:
            entries = {key: entries[key] for key in self.used if key in entries}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(entries, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:  # a read-only or full disk costs the next run its compile time, nothing else
            try:
                os.unlink(tmp)
            except (OSError, UnboundLocalError):
                pass


class JinjaCodeCache(CacheFile):
    """Code objects by template digest."""

    def compile(self, original, env, source, name, filename, defer_init) -> CodeType:
        return self.get_or_compute(_digest(env, source, name, filename, defer_init), CodeType,
                                   lambda: original(env, source, name, filename, False, defer_init))


class SchemaCache(CacheFile):
    """JSON schemas by class, module file and package versions."""

    def json_schema(self, original, cls) -> dict:
        module_file = getattr(sys.modules.get(cls.__module__), "__file__", None) or ""
        try:
            mtime = os.stat(module_file).st_mtime_ns
        except OSError:
            mtime = None
        key = hashlib.blake2b(repr((cls.__module__, cls.__qualname__, module_file, mtime)).encode(),
                              digest_size=20).digest()
        return self.get_or_compute(key, dict, lambda: original(cls))


# mashumaro names some helpers with a uuid4 hex, new in every process: such source is never the
# same twice, so it is compiled as before (~80 of ~3,400 here) instead of filling the file.
_UNIQUE_NAME = re.compile(r"[0-9a-f]{32}")


class GeneratedCodeCache(CacheFile):
    """Code objects of the Python source that libraries write and `exec` as classes are defined or
    first used, by digest of the source and the compiler flags."""

    def exec_for(self, module) -> Callable:
        """An `exec` for `module` to call instead of the builtin: the same effect, the source compiled
        once across processes, with the `__future__` flags the builtin would take from `module`."""
        flags = 0
        for value in vars(module).values():
            if isinstance(value, __future__._Feature):
                flags |= value.compiler_flag
        prefix = b"%d:" % flags

        def cached_exec(source, globals=None, locals=None, /):
            if globals is None:  # the builtin's defaults: the calling frame's namespaces
                caller = sys._getframe(1)
                globals, locals = caller.f_globals, caller.f_locals if locals is None else locals
            if not isinstance(source, str) or _UNIQUE_NAME.search(source):
                return exec(source, globals, locals)
            key = hashlib.blake2b(prefix + source.encode("utf-8", "surrogatepass"), digest_size=20).digest()
            code = self.get_or_compute(
                key, CodeType, lambda: compile(source, "<string>", "exec", flags=flags, dont_inherit=True))
            return exec(code, globals, locals)

        return cached_exec


def _digest(env, source: str, name, filename, defer_init: bool) -> bytes:
    options = (
        type(env).__module__, type(env).__qualname__,
        env.code_generator_class.__module__, env.code_generator_class.__qualname__,
        tuple(sorted(env.extensions)),
        env.block_start_string, env.block_end_string, env.variable_start_string, env.variable_end_string,
        env.comment_start_string, env.comment_end_string, env.line_statement_prefix, env.line_comment_prefix,
        env.trim_blocks, env.lstrip_blocks, env.newline_sequence, env.keep_trailing_newline,
        env.optimized, env.is_async, env.finalize is not None, bool(env.autoescape), callable(env.autoescape),
    )
    return hashlib.blake2b(repr((options, name, filename, defer_init, source)).encode(), digest_size=20).digest()


def install_jinja_cache(path: Path | None = None) -> JinjaCodeCache | None:
    """Route `jinja2.Environment.compile` through a cache file; returns the cache, or None when
    turned off. Call once per process, before dbt renders anything."""
    if _turned_off() or os.environ.get("DBT_MACRO_DEBUGGING"):
        return None
    import jinja2
    from jinja2.utils import internalcode

    cache = JinjaCodeCache(path or cache_dir() / f"jinja-{_versions('jinja2', 'dbt-common')}.pickle")
    original = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, str):  # Python source asked for, or an already parsed AST
            return original(self, source, name, filename, raw, defer_init)
        return cache.compile(original, self, source, name, filename, defer_init)

    compile.__wrapped__ = original
    jinja2.Environment.compile = internalcode(compile)  # hidden from template tracebacks, as Jinja's own is
    atexit.register(cache.save)
    return cache


def install_schema_cache(path: Path | None = None) -> SchemaCache | None:
    """Route `dbtClassMixin.json_schema` (memoised per process, as dbt's own) through a cache file;
    returns the cache, or None when turned off."""
    if _turned_off():
        return None
    from dbt_common.dataclass_schema import dbtClassMixin

    versions = _versions("dbt-core", "dbt-common", "dbt-adapters", "mashumaro")
    cache = SchemaCache(path or cache_dir() / f"schemas-{versions}.pickle")
    original = dbtClassMixin.json_schema.__func__

    @functools.lru_cache
    def json_schema(cls):
        return cache.json_schema(original, cls)

    json_schema.__wrapped__ = original
    dbtClassMixin.json_schema = classmethod(json_schema)
    atexit.register(cache.save)
    return cache


# Modules whose generated source (`exec` of a string at class definition or first use) is cached:
# dataclasses writes each dataclass's __init__, __repr__, __eq__...; mashumaro each of dbt's serializers.
GENERATED_CODE_MODULES = ("dataclasses", "mashumaro.core.meta.code.builder")


def install_generated_code_cache(path: Path | None = None) -> GeneratedCodeCache | None:
    """Give each module of GENERATED_CODE_MODULES an `exec` that compiles through a cache file;
    returns the cache, or None when turned off. Call before dbt is imported: its dataclasses are
    defined on import."""
    if _turned_off():
        return None
    cache = GeneratedCodeCache(path or cache_dir() / f"generated-{_versions('mashumaro')}.pickle")
    for name in GENERATED_CODE_MODULES:
        module = importlib.import_module(name)
        module.exec = cache.exec_for(module)
    atexit.register(cache.save)
    return cache
