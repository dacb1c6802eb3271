"""`orchestration/dbt_process_caches.py`: compiled Jinja code kept between dbt processes. Templates are
rendered through dbt's own environments (`dbt_common.clients.jinja.get_environment`); each "process"
is one `install()` on a file under tmp_path, with Jinja's own compile counted underneath it."""

from __future__ import annotations

import atexit
import marshal
import os
import pickle
import sys
from pathlib import Path
from types import CodeType

import duckdb
import jinja2
import pytest
from dbt_common.clients.jinja import get_environment

from orchestration import dbt_process_caches
from tests.dbt.conftest import dbt_output

# Source -> what dbt's text environment renders it to, with CONTEXT: macros (renamed by dbt's parser),
# a materialization and a generic test (dbt's extensions), `do` and `continue` (Jinja's), filters.
TEMPLATES = {
    "{% macro greet(who) %}hello {{ who | upper }}{% endmacro %}{{ dbt_macro__greet('dbt') }}": "hello DBT",
    "{% set xs = [] %}{% for i in range(4) %}{% if i == 1 %}{% continue %}{% endif %}"
    "{% do xs.append(i * n) %}{% endfor %}{{ xs | join(',') }}": "0,2,3",
    "{% materialization demo, default %}built {{ n }}{% endmaterialization %}"
    "{{ dbt_macro__materialization_demo_default() }}": "built 1",
    "{% test positive(model, column_name) %}select * from {{ model }} where {{ column_name }} <= 0{% endtest %}"
    "{{ dbt_macro__test_positive('orders', 'amount') }}": "select * from orders where amount <= 0",
}
CONTEXT = {"n": 1}


def render(source: str, native: bool = False):
    return get_environment(native=native).from_string(source).render(CONTEXT)


@pytest.fixture
def start(monkeypatch, tmp_path):
    """`start()` is a new dbt process: install() on the cache file, under a stand-in for Jinja's own
    compile that records each template it really compiles. Returns (cache, compiled sources).
    Environment.compile is restored and the exit hooks dropped afterwards."""
    real = jinja2.Environment.compile
    monkeypatch.delenv("SFA_DBT_CACHE", raising=False)
    monkeypatch.delenv("DBT_MACRO_DEBUGGING", raising=False)
    caches = []

    def start_process(path: Path = tmp_path / "jinja.pickle"):
        compiled: list[str] = []

        def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
            compiled.append(source)
            return real(self, source, name, filename, raw, defer_init)

        monkeypatch.setattr(jinja2.Environment, "compile", counting)  # undone (back to `real`) at teardown
        hooks = atexit._ncallbacks()
        cache = dbt_process_caches.install_jinja_cache(path)
        assert cache is not None and atexit._ncallbacks() == hooks + 1  # saved at exit
        caches.append(cache)
        return cache, compiled

    yield start_process
    for cache in caches:
        atexit.unregister(cache.save)


def test_a_second_process_renders_from_the_file_without_compiling(start, tmp_path) -> None:
    """The point of the cache: what one process compiled and saved, the next one loads instead of
    compiling (Jinja's compile not called at all), and renders the same output."""
    first, compiled = start()
    assert {source: render(source) for source in TEMPLATES} == TEMPLATES
    assert (first.hits, first.misses, len(compiled)) == (0, len(TEMPLATES), len(TEMPLATES))
    first.save()
    assert (tmp_path / "jinja.pickle").stat().st_size > 0

    second, compiled = start()
    assert {source: render(source) for source in TEMPLATES} == TEMPLATES
    assert (second.hits, second.misses, compiled) == (len(TEMPLATES), 0, [])


def test_native_and_text_code_are_kept_apart_and_a_changed_source_is_compiled(start) -> None:
    """dbt renders configs in its native environment (Python values) and SQL in its text one (strings):
    same source, different generated code, so two entries; a served entry of the wrong kind would turn
    the int into a string or fail. An edited template is compiled afresh."""
    source = "{{ n + 1 }}"
    first, _ = start()
    assert (render(source, native=True), render(source)) == (2, "2")
    assert (first.misses, len(first.entries)) == (2, 2)
    first.save()

    second, compiled = start()
    native, text = render(source, native=True), render(source)
    assert (type(native), native, text) == (int, 2, "2")
    assert (second.hits, second.misses, compiled) == (2, 0, [])
    assert render("{{ n + 2 }}", native=True) == 3
    assert (second.hits, second.misses, compiled) == (2, 1, ["{{ n + 2 }}"])


@pytest.mark.parametrize("damage", [
    pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
    pytest.param(lambda data: b"not a pickle at all", id="garbage"),
    pytest.param(lambda data: pickle.dumps(["a", "list"]), id="not-a-dict"),
    pytest.param(lambda data: b"\x80\x05\x95" + b"\xff" * 8, id="frame-overflow"),  # OverflowError
    pytest.param(lambda data: b"\x80\x04cno_such_module\nx\n.", id="unknown-global"),  # ImportError
    pytest.param(lambda data: pickle.dumps({k: b"\xff" + v[1:] for k, v in pickle.loads(data).items()}),
                 id="bad-code-entries"),
])
def test_a_damaged_file_is_ignored_and_replaced(start, tmp_path, damage) -> None:
    """A cache file that cannot be read must never break dbt: templates are compiled as if there were
    none, and the file is rewritten whole, so the next process is served from it."""
    path = tmp_path / "jinja.pickle"
    first, _ = start()
    for source in TEMPLATES:
        render(source)
    first.save()
    path.write_bytes(damage(path.read_bytes()))

    second, compiled = start()
    assert {source: render(source) for source in TEMPLATES} == TEMPLATES
    assert (second.hits, second.misses, len(compiled)) == (0, len(TEMPLATES), len(TEMPLATES))
    second.save()
    entries = pickle.loads(path.read_bytes())
    assert len(entries) == len(TEMPLATES)
    assert all(isinstance(marshal.loads(code), CodeType) for code in entries.values())

    third, compiled = start()
    assert {source: render(source) for source in TEMPLATES} == TEMPLATES
    assert (third.hits, compiled) == (len(TEMPLATES), [])


@pytest.mark.parametrize("variable, value", [("SFA_DBT_CACHE", "off"), ("SFA_DBT_CACHE", "OFF"),
                                             ("DBT_MACRO_DEBUGGING", "write")])
def test_turned_off_it_patches_nothing(monkeypatch, tmp_path, variable, value) -> None:
    """Off (or with dbt's macro debugging, which needs Jinja to compile and write out every template):
    install() returns None, Environment.compile is Jinja's own, no exit hook, no file."""
    monkeypatch.setenv(variable, value)
    compile_before, hooks_before = jinja2.Environment.compile, atexit._ncallbacks()
    assert dbt_process_caches.install_jinja_cache(tmp_path / "jinja.pickle") is None
    assert jinja2.Environment.compile is compile_before
    assert atexit._ncallbacks() == hooks_before
    render("{{ n }}")
    assert not any(tmp_path.iterdir())


def test_save_writes_only_when_something_was_compiled(start, tmp_path) -> None:
    """A process served entirely from the file leaves it alone (no write per dbt command), and one that
    rendered nothing creates none."""
    path = tmp_path / "jinja.pickle"
    start(tmp_path / "none" / "jinja.pickle")[0].save()
    assert not (tmp_path / "none").exists()

    first, _ = start()
    for source in TEMPLATES:
        render(source)
    first.save()
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # any rewrite would show as a new mtime
    before = path.read_bytes()

    second, _ = start()
    for source in TEMPLATES:
        render(source)
    second.save()
    assert second.hits == len(TEMPLATES)
    assert path.stat().st_mtime_ns == 1_000_000_000 and path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jinja.pickle"]  # no temporary file left


def test_past_max_entries_only_the_entries_used_are_kept(start, monkeypatch, tmp_path) -> None:
    """Entries other processes wrote are kept until the file exceeds MAX_ENTRIES; then the file keeps
    what the writing process used (old templates of a renamed model do not pile up forever)."""
    monkeypatch.setattr(dbt_process_caches, "MAX_ENTRIES", 3)
    a, b, c, d = (f"{{{{ n + {i} }}}}" for i in range(4))
    first, _ = start()
    for source in (a, b, c):
        render(source)
    first.save()
    assert len(pickle.loads((tmp_path / "jinja.pickle").read_bytes())) == 3  # at the limit: all kept

    second, _ = start()
    for source in (c, d):
        render(source)
    assert (second.hits, second.misses, len(second.entries)) == (1, 1, 4)
    second.save()

    third, compiled = start()
    assert len(third.entries) == 2
    assert [render(source) for source in (c, d, a)] == ["3", "4", "1"]
    assert (third.hits, compiled) == (2, [a])


def test_sfa_dbt_keeps_its_templates_and_schemas_between_commands(tmp_path, monkeypatch) -> None:
    """Through the real launcher: `sfa-dbt seed` writes the three cache files in SFA_DBT_CACHE_DIR
    (dicts of code and of schemas by digest), and the same command again (into a fresh warehouse, so
    dbt does the same work) succeeds without computing anything new, i.e. without rewriting a file.
    (Seeding a table that already exists is not the same work: dbt then calls its truncate macros,
    compiled on first use.)"""
    monkeypatch.delenv("SFA_DBT_CACHE", raising=False)
    monkeypatch.delenv("DBT_MACRO_DEBUGGING", raising=False)
    cache_dir = tmp_path / "cache"

    def seed(warehouse: str):
        env = {"SFA_WAREHOUSE": str(tmp_path / warehouse), "SFA_DBT_TARGET": "duckdb",
               "SFA_DBT_CACHE_DIR": str(cache_dir)}
        # its own target dir: both runs parse in full (a partial parse loads other classes' code)
        result = dbt_output(["seed", "--select", "channels", "--no-use-colors"], env, tmp_path / Path(warehouse).stem)
        assert result.returncode == 0, result.stdout[-2000:]
        assert "Done. PASS=1 " in result.stdout
        con = duckdb.connect(str(tmp_path / warehouse), read_only=True)
        try:
            assert con.execute("select count(*) from duckdb_tables() where table_name = 'channels'").fetchone()[0] == 1
        finally:
            con.close()

    seed("first.duckdb")
    paths = sorted(cache_dir.iterdir())
    assert [p.name.split("-")[0] for p in paths] == ["generated", "jinja", "schemas"]
    assert all(p.suffix == ".pickle" for p in paths)
    generated, templates, schemas = (pickle.loads(p.read_bytes()) for p in paths)
    for codes in (generated, templates):
        assert isinstance(codes, dict) and len(codes) > 100
        assert all(isinstance(k, bytes) and isinstance(v, bytes) for k, v in codes.items())
        assert isinstance(marshal.loads(next(iter(codes.values()))), CodeType)
    assert len(schemas) >= 3  # profile credentials, project, seed config at least
    assert all(marshal.loads(v).get("type") == "object" for v in schemas.values())
    before = []
    for path in paths:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))
        before.append(path.read_bytes())

    seed("second.duckdb")
    assert sorted(cache_dir.iterdir()) == paths
    assert [p.stat().st_mtime_ns for p in paths] == [1_000_000_000] * 3
    assert [p.read_bytes() for p in paths] == before


@pytest.fixture
def schema_process(monkeypatch, tmp_path):
    """`schema_process()` is a new dbt process for the schema cache: install_schema_cache() with dbt's
    own schema builder counted underneath it. Returns (cache, classes built)."""
    from dbt_common.dataclass_schema import dbtClassMixin

    real = dbtClassMixin.__dict__["json_schema"]
    monkeypatch.delenv("SFA_DBT_CACHE", raising=False)
    built: list[type] = []
    caches = []

    def start_process():
        def counting(cls):
            built.append(cls)
            return real.__func__.__wrapped__(cls)  # dbt's builder without its in-process memo

        monkeypatch.setattr(dbtClassMixin, "json_schema", classmethod(counting))
        built.clear()
        cache = dbt_process_caches.install_schema_cache(tmp_path / "schemas.pickle")
        caches.append(cache)
        return cache, built

    yield start_process
    for cache in caches:
        atexit.unregister(cache.save)


def test_config_schemas_are_served_from_the_file(schema_process) -> None:
    """dbt's schema of a config class, built once, is served from the file to the next process
    without being built, equal to what dbt builds; validation still rejects a bad config."""
    from dbt.artifacts.resources import SeedConfig
    from dbt_common.dataclass_schema import ValidationError

    first, built = schema_process()
    schema = SeedConfig.json_schema()
    assert built == [SeedConfig] and first.misses == 1 and schema["type"] == "object"
    assert "delimiter" in schema["properties"]
    first.save()

    second, built = schema_process()
    assert SeedConfig.json_schema() == schema
    assert built == [] and (second.hits, second.misses) == (1, 0)
    SeedConfig.validate({"delimiter": ";"})
    with pytest.raises(ValidationError):
        SeedConfig.validate({"delimiter": 5})


def test_a_changed_class_file_builds_its_schema_again(schema_process, monkeypatch, tmp_path) -> None:
    """The key holds the class's module file and its modification time: after the file changes
    (an upgrade rewrites it) the schema is built again rather than served stale."""
    from dbt.artifacts.resources import SeedConfig

    first, _ = schema_process()
    SeedConfig.json_schema()
    first.save()

    module_file = tmp_path / "config_module.py"
    module_file.write_text("# stand-in for the upgraded module\n")
    stand_in = type(sys)("stand_in")
    stand_in.__file__ = str(module_file)
    monkeypatch.setitem(sys.modules, SeedConfig.__module__, stand_in)
    second, built = schema_process()
    SeedConfig.json_schema()
    assert built == [SeedConfig] and second.misses == 1


@pytest.fixture
def generated_process(monkeypatch, tmp_path):
    """`generated_process()` is a new process for the generated-code cache: a GeneratedCodeCache on
    one file, with the builtin compile counted underneath it. Returns (cache, compiled sources)."""
    monkeypatch.delenv("SFA_DBT_CACHE", raising=False)
    compiled: list[str] = []

    def counting(source, *args, **kwargs):
        compiled.append(source)
        return compile(source, *args, **kwargs)

    monkeypatch.setattr(dbt_process_caches, "compile", counting, raising=False)

    def start_process():
        compiled.clear()
        return dbt_process_caches.GeneratedCodeCache(tmp_path / "generated.pickle"), compiled

    return start_process


def test_generated_dataclass_code_is_served_from_the_file(generated_process, monkeypatch) -> None:
    """A dataclass defined through the cache's exec: compiled in the first process, served from the
    file in the second, and the class behaves as one made by dataclasses' own exec."""
    import dataclasses

    def define():
        @dataclasses.dataclass(frozen=True, order=True)
        class Point:
            x: int
            y: int = 0
        return Point

    first, compiled = generated_process()
    monkeypatch.setattr(dataclasses, "exec", first.exec_for(dataclasses), raising=False)
    point = define()
    assert len(compiled) >= 5 and first.misses == len(compiled)  # __init__, __repr__, __eq__, order, hash...
    first.save()

    second, compiled = generated_process()
    monkeypatch.setattr(dataclasses, "exec", second.exec_for(dataclasses), raising=False)
    again = define()
    assert (compiled, second.misses, second.hits) == ([], 0, first.misses)
    monkeypatch.delattr(dataclasses, "exec")
    plain = define()
    for cls in (point, again):
        assert cls(1) == cls(1, 0) and cls(1) < cls(2) and repr(cls(3, 4)) == repr(plain(3, 4)).replace(
            plain.__qualname__, cls.__qualname__)
        with pytest.raises(dataclasses.FrozenInstanceError):
            cls(1).x = 2
        assert cls.__init__.__annotations__ == plain.__init__.__annotations__


def test_generated_code_keeps_its_modules_future_flags_and_namespaces(generated_process, tmp_path) -> None:
    """Code is compiled with the `__future__` flags of the module it is exec'd for (kept apart in the
    file), with the caller's namespaces when none are given; a source carrying a uuid4 hex (a
    mashumaro helper name, new in each process) is left to the builtin and never stored."""
    import types

    cache, compiled = generated_process()
    postponed = types.ModuleType("postponed")
    exec("from __future__ import annotations", postponed.__dict__)
    source = "def f(x: int) -> str: pass"
    ns_plain, ns_postponed = {}, {}
    cache.exec_for(types.ModuleType("plain"))(source, ns_plain)
    cache.exec_for(postponed)(source, ns_postponed)
    assert ns_plain["f"].__annotations__ == {"x": int, "return": str}
    assert ns_postponed["f"].__annotations__ == {"x": "int", "return": "str"}
    assert cache.misses == 2

    marker = []
    cache.exec_for(types.ModuleType("plain"))("marker.append(1)")
    assert marker == [1]

    unique = "def __unpack_7c9e6679f4254e1c8b1d0e2a3f4b5c6d(v): return v"
    namespace = {}
    cache.exec_for(types.ModuleType("plain"))(unique, namespace)
    assert namespace["__unpack_7c9e6679f4254e1c8b1d0e2a3f4b5c6d"](5) == 5
    assert unique not in compiled and cache.misses == 3  # the builtin exec compiled it
    cache.save()
    assert len(pickle.loads((tmp_path / "generated.pickle").read_bytes())) == 3


def test_generated_code_cache_turned_off_patches_nothing(monkeypatch, tmp_path) -> None:
    import dataclasses

    monkeypatch.setenv("SFA_DBT_CACHE", "off")
    assert dbt_process_caches.install_generated_code_cache(tmp_path / "g.pickle") is None
    assert "exec" not in vars(dataclasses)
