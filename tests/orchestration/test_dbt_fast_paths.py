"""`orchestration/dbt_fast_paths.py`: dbt's events built by protobuf's constructors instead of
`ParseDict`, and dropped when no logger or callback reads them. Compared with dbt-common's own code
on every event class dbt defines, on an event manager with real loggers, and through `sfa-dbt`."""

from __future__ import annotations

import copy
import io
import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from dbt_common.events import event_manager
from dbt_common.events.base_types import BaseEvent, EventLevel
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.exceptions.events import EventCompilationError
from google.protobuf.descriptor import FieldDescriptor

from orchestration import dbt_fast_paths
from orchestration.dbt_cli import EXECUTABLE
from tests.dbt.conftest import DBT_PROJECT_DIR


@pytest.fixture
def fast(monkeypatch):
    monkeypatch.delenv("SFA_DBT_FAST_PATHS", raising=False)
    assert dbt_fast_paths.install()
    yield
    dbt_fast_paths.uninstall()


def _event_classes() -> list[type]:
    import dbt.adapters.events.types  # noqa: F401  (defines the classes)
    import dbt.events.types  # noqa: F401
    import dbt_common.events.types  # noqa: F401

    found, todo = [], [BaseEvent]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if hasattr(sub.PROTO_TYPES_MODULE, sub.__name__):
                found.append(sub)
    return sorted(set(found), key=lambda c: (c.__module__, c.__name__))


EVENT_CLASSES = _event_classes()


def _value(field: FieldDescriptor, variant: str, depth: int = 0):
    """A value for `field` as dbt's callers pass them: Python values ("python"), the JSON forms only
    ParseDict takes (numbers and timestamps as text: "json"), or bools everywhere ("bools")."""
    message = field.message_type
    if message is not None and message.GetOptions().map_entry:
        return {"key": _value(message.fields_by_name["value"], variant, depth)}
    if field.is_repeated:
        return [_value_one(field, variant, depth)] * 2
    return _value_one(field, variant, depth)


def _value_one(field: FieldDescriptor, variant: str, depth: int):
    message = field.message_type
    if message is not None:
        name = message.full_name
        if name == "google.protobuf.Timestamp":
            return "2026-12-07T10:11:12.123456Z"
        if name == "google.protobuf.Struct":
            return {"n": 1, "s": "x", "l": [1, "y", None], "d": {"b": True}}
        if name == "google.protobuf.ListValue":
            return [1, "x", {"a": 2.5}]
        if depth > 3:
            return {}
        return {f.name: _value(f, variant, depth + 1) for f in message.fields}
    if variant == "bools":
        return True
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_STRING:
        return "text é" if field.type == FieldDescriptor.TYPE_STRING else b"bytes"
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return True
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        return field.enum_type.values[-1].name
    if kind in (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE):
        return "2.5" if variant == "json" else 2.5
    return "7" if variant == "json" else 7


def _build(cls: type, kwargs: dict, init):
    """(serialized message, None) or (None, exception type) for `cls(**kwargs)` through `init`."""
    event = cls.__new__(cls)
    try:
        init(event, **copy.deepcopy(kwargs))
    except Exception as exc:  # noqa: BLE001 - the type is compared
        return None, type(exc)
    return event.pb_msg.SerializeToString(deterministic=True), None


def test_every_event_class_is_built_as_dbt_builds_it(fast, monkeypatch) -> None:
    """For each of dbt's event classes and four ways of filling it (Python values, JSON text values,
    bools everywhere, a key the message does not have), the constructor path gives byte-identical
    messages to dbt-common's ParseDict, or fails the same way (under pytest dbt-common raises).
    Events of Python values without bools are built without ParseDict."""
    from dbt_common.events import base_types

    ours, dbts = BaseEvent.__init__, BaseEvent.__init__.__wrapped__
    parsed = []
    monkeypatch.setattr(base_types, "ParseDict", lambda d, m, _real=base_types.ParseDict: parsed.append(m) or _real(d, m))
    compared = Counter()
    for cls in EVENT_CLASSES:
        fields = getattr(cls.PROTO_TYPES_MODULE, cls.__name__).DESCRIPTOR.fields
        for variant in ("python", "json", "bools", "unknown key"):
            kwargs = {f.name: _value(f, "python" if variant == "unknown key" else variant) for f in fields}
            if variant == "unknown key":
                kwargs["not_a_field"] = 1
            expected = _build(cls, kwargs, dbts)
            parsed.clear()
            assert _build(cls, kwargs, ours) == expected, (cls.__name__, variant)
            compared["built" if expected[1] is None else "failed"] += 1
            if variant == "python" and not any(f.cpp_type == f.CPPTYPE_BOOL for f in fields):
                compared["without ParseDict"] += not parsed
    assert len(EVENT_CLASSES) > 250
    assert compared["without ParseDict"] > 180  # the rest hold a timestamp or a bool
    assert compared["built"] > 2 * len(EVENT_CLASSES)  # most variants are valid events
    assert compared["failed"] >= len(EVENT_CLASSES)  # at least the unknown keys


def _envelope(msg) -> bytes:
    msg = copy.deepcopy(msg)
    msg.info.ClearField("ts")
    return msg.SerializeToString(deterministic=True)


def test_envelopes_equal_dbts_but_for_the_time(fast, monkeypatch) -> None:
    """msg_from_base_event on every event class built from Python values: the same message as
    dbt-common's (with the metadata of DBT_ENV_CUSTOM_ENV_ variables) apart from the time stamp,
    which is now in UTC in both, whatever the local time zone; a level given explicitly wins.
    Events whose message() cannot format the synthetic values fail the same way."""
    import time

    from dbt_common.events import functions

    monkeypatch.setattr(functions, "metadata_vars", {"job": "nightly"})
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        _compare_envelopes()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def _compare_envelopes() -> None:
    from datetime import datetime, timezone

    dbts = dbt_fast_paths.dbt_own(event_manager, "msg_from_base_event")
    same = 0
    for cls in EVENT_CLASSES:
        fields = getattr(cls.PROTO_TYPES_MODULE, cls.__name__).DESCRIPTOR.fields
        event = cls(**{f.name: _value(f, "python") for f in fields})
        for level in (None, EventLevel.ERROR):
            try:
                expected = dbts(event, level=level)
            except Exception as exc:  # noqa: BLE001
                with pytest.raises(type(exc)):
                    dbt_fast_paths.msg_from_base_event(event, level=level)
                continue
            ours = dbt_fast_paths.msg_from_base_event(event, level=level)
            assert _envelope(ours) == _envelope(expected), cls.__name__
            assert abs(ours.info.ts.ToDatetime() - expected.info.ts.ToDatetime()).total_seconds() < 5
            same += 1
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    assert abs((ours.info.ts.ToDatetime() - now).total_seconds()) < 5
    assert ours.info.level == "error"
    assert dict(ours.info.extra) == {"job": "nightly"}
    assert same > len(EVENT_CLASSES)


@pytest.fixture
def manager(request):
    """A fresh EventManager whose one logger (level given by the test) writes plain text into a buffer."""
    created = []

    def make(level: EventLevel):
        stream = io.StringIO()
        em = event_manager.EventManager()
        em.add_logger(LoggerConfig(name=f"fast-path-test-{request.node.name}-{len(created)}", level=level,
                                   line_format=LineFormat.PlainText, output_stream=stream))
        created.append(em)
        return em, stream

    return make


def _strip_times(text: str) -> str:
    return re.sub(r"\d\d:\d\d:\d\d(\.\d+)?", "T", text)


def test_events_no_one_reads_are_never_enveloped(fast, manager, monkeypatch) -> None:
    """An info-level logger: debug events are dropped before an envelope is built, info events are
    written exactly as dbt-common writes them; a callback still receives every event; print events
    reach a logger at error level (dbt's --quiet); a warning under --warn-error still raises."""
    from dbt.adapters.events.types import SQLQuery
    from dbt_common.events.types import Note, PrintEvent

    from dbt_common.events import base_types

    built = []  # every envelope asks for the thread's name
    monkeypatch.setattr(base_types, "get_thread_name", lambda: built.append(1) or "MainThread")
    em, stream = manager(EventLevel.INFO)
    em.fire_event(SQLQuery(conn_name="c", sql="select 1", node_info={}))
    assert (built, stream.getvalue()) == ([], "")

    em.fire_event(Note(msg="written"), level=EventLevel.INFO)
    assert built == [1]
    ours = stream.getvalue()
    dbt_fast_paths.uninstall()
    dbts_em, dbts_stream = manager(EventLevel.INFO)
    dbts_em.fire_event(SQLQuery(conn_name="c", sql="select 1", node_info={}))
    dbts_em.fire_event(Note(msg="written"), level=EventLevel.INFO)
    assert _strip_times(ours) == _strip_times(dbts_stream.getvalue())
    assert "written" in ours
    dbt_fast_paths.install()

    received = []
    em.add_callback(received.append)
    em.fire_event(SQLQuery(conn_name="c", sql="select 2", node_info={}))
    assert [m.data.sql for m in received] == ["select 2"]
    assert "select 2" not in stream.getvalue()

    quiet, quiet_stream = manager(EventLevel.ERROR)
    quiet.fire_event(Note(msg="not shown"), level=EventLevel.INFO)
    quiet.fire_event(PrintEvent(msg="printed"))
    assert "printed" in quiet_stream.getvalue() and "not shown" not in quiet_stream.getvalue()

    quiet.warn_error = True
    quiet.require_warn_or_error_handling = True
    with pytest.raises(EventCompilationError):
        quiet.fire_event(Note(msg="a warning"), level=EventLevel.WARN)


def test_turned_off_leaves_dbts_code(monkeypatch) -> None:
    monkeypatch.setenv("SFA_DBT_FAST_PATHS", "off")
    original = BaseEvent.__init__
    assert not dbt_fast_paths.install()
    assert BaseEvent.__init__ is original
    assert event_manager.msg_from_base_event is not dbt_fast_paths.msg_from_base_event


def _normalized_json_log(text: str) -> Counter:
    """JSON log lines without what differs between two identical runs (times, ids, numbers, connection names)."""
    lines = Counter()
    for line in text.splitlines():
        event = json.loads(line)
        for key in ("ts", "invocation_id", "pid", "thread"):
            event["info"].pop(key)
        event.get("data", {}).pop("index", None)
        if event["info"]["name"] == "MainReportArgs":  # its text shows dbt's args in set order
            event["info"].pop("msg")
        # dbt lists each schema on whichever pooled connection is free: names by thread timing
        line = re.sub(r"list_sfa_[a-z]+", "list_sfa_S", json.dumps(event, sort_keys=True))
        lines[re.sub(r"\d+", "N", line)] += 1
    return lines


def test_sfa_dbt_logs_the_same_with_either_code(tmp_path) -> None:
    """`sfa-dbt seed` with the fast paths and with dbt's code: the same JSON events on stdout (info
    level) and in dbt.log (debug level), apart from times, ids, the run's directory and how often
    manifest.json is written."""
    logs = {}
    for mode in ("off", "on"):
        work = tmp_path / mode
        cmd = [str(EXECUTABLE), "seed", "--select", "channels", "--log-format", "json",
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--log-level-file", "debug"]
        env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "SFA_DBT_FAST_PATHS": mode,
               "SFA_WAREHOUSE": str(work / "sfa.duckdb"), "SFA_DBT_TARGET": "duckdb"}
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        logs[mode] = [_normalized_json_log(text.replace(str(work), "WORK"))
                      for text in (result.stdout, (work / "logs" / "dbt.log").read_text())]
    (dbt_stdout, dbt_file), (fast_stdout, fast_file) = logs["off"], logs["on"]
    for counter in (dbt_file, fast_file):  # written once instead of twice: the next test
        for line in [line for line in counter if '"ArtifactWritten"' in line and "manifest.json" in line]:
            del counter[line]
    assert not any('"level": "debug"' in line for line in fast_stdout)
    assert sum(fast_stdout.values()) > 5
    assert sum(n for line, n in fast_file.items() if '"level": "debug"' in line) > 20
    assert (fast_stdout, fast_file) == (dbt_stdout, dbt_file)


def test_type_testers_are_shared_and_type_results_as_dbts(fast, tmp_path) -> None:
    """One tester per (text columns in any order, null values); query results and seed files typed
    through it equal dbt's own: text kept as text (with '' and 'null' preserved in a query's text
    columns), numbers, dates, datetimes and bools recognised, a seed's forced text column kept."""
    from dbt_common.clients import agate_helper

    tester = agate_helper.build_type_tester({"b", "a"}, string_null_values=())
    assert agate_helper.build_type_tester(["a", "b"], string_null_values=[]) is tester
    assert agate_helper.build_type_tester(["a"], string_null_values=()) is not tester
    assert agate_helper.build_type_tester(["a", "b"]) is not tester  # default null values

    rows = [{"id": 1, "name": "", "amount": 2.5, "day": "2026-12-07", "at": "2026-12-07 10:11:12",
             "flag": True, "meta": {"k": [1]}},
            {"id": 2, "name": "null", "amount": None, "day": None, "at": None, "flag": False, "meta": None}]
    seed = tmp_path / "seed.csv"
    seed.write_text("code,day,amount,flag\n007,2026-12-07,1.50,true\n,null,,false\n")

    def typed(table):
        return [type(t).__name__ for t in table.column_types], [tuple(r.values()) for r in table.rows]

    def both():
        return (typed(agate_helper.table_from_data_flat(rows, list(rows[0]))),
                typed(agate_helper.from_csv(str(seed), text_columns={"code": "varchar"})))

    ours = both()
    dbt_fast_paths.uninstall()
    try:
        dbts = both()
    finally:
        dbt_fast_paths.install()
    assert ours == dbts
    (query_types, query_rows), (seed_types, seed_rows) = ours
    assert query_types[:2] == ["Integer", "Text"] and [r[1] for r in query_rows] == ["", "null"]
    assert seed_types == ["Text", "Date", "Number", "Boolean"] and seed_rows[0][0] == "007"


def test_json_artifacts_are_written_as_dbt_writes_them(fast, tmp_path) -> None:
    """write_json (and its copies imported by name) writes the same bytes as dbt-common's json.dump,
    for the value types dbt's encoder handles; data it cannot encode leaves the old file alone."""
    import datetime
    import decimal

    from dbt.artifacts.schemas import base
    from dbt_common.clients import system

    data = {"s": "ünï \"q\" \n", "i": 7, "f": 0.1 + 0.2, "big": 1e300, "neg": -0.0, "b": [True, False, None],
            "d": decimal.Decimal("12.30"), "t": datetime.datetime(2026, 12, 7, 10, 11, 12, 13),
            "day": datetime.date(2026, 12, 7), "nested": {"k": [{"x": {}}, []]}}
    assert base.write_json is not dbt_fast_paths.dbt_own(base, "write_json")  # the by-name copy is patched too
    ours, dbts = tmp_path / "ours.json", tmp_path / "dbts.json"
    base.write_json(str(ours), data)
    dbt_fast_paths.dbt_own(base, "write_json")(str(dbts), data)
    assert ours.read_bytes() == dbts.read_bytes()
    assert json.loads(ours.read_text())["t"] == "2026-12-07T10:11:12.000013"

    with pytest.raises(TypeError):
        system.write_json(str(ours), {"x": object()})
    assert ours.read_bytes() == dbts.read_bytes()


def _manifest_run(tmp_path: Path, mode: str, args: list[str]) -> tuple[dict, list[dict]]:
    work = tmp_path / mode
    cmd = [str(EXECUTABLE), *args, "--log-format", "json", "--project-dir", str(DBT_PROJECT_DIR),
           "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(work / "target"),
           "--log-path", str(work / "logs")]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "SFA_DBT_FAST_PATHS": mode,
           "SFA_WAREHOUSE": str(work / "sfa.duckdb"), "SFA_DBT_TARGET": "duckdb"}
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    for key in ("generated_at", "invocation_id", "invocation_started_at", "run_started_at"):
        manifest["metadata"].pop(key, None)
    for section in manifest.values():  # nodes, macros, sources...: when each object was made
        for item in (section.values() if isinstance(section, dict) else []):
            if isinstance(item, dict):
                item.pop("created_at", None)
    written = [json.loads(line)["data"] for line in (work / "logs" / "dbt.log").read_text().splitlines()
               if '"ArtifactWritten"' in line]
    return manifest, [w for w in written if Path(w["artifact_path"]).name == "manifest.json"]


@pytest.mark.parametrize("args, dbt_writes", [(["parse"], 1), (["build", "--select", "channels"], 2)])
def test_the_manifest_is_written_once_and_as_dbt_writes_it(tmp_path, args, dbt_writes) -> None:
    """`sfa-dbt parse` still writes manifest.json (at exit), `sfa-dbt build` writes it once, when it
    ends, instead of after parsing and again at the end; the final file is dbt's."""
    dbts, dbt_events = _manifest_run(tmp_path, "off", args)
    ours, our_events = _manifest_run(tmp_path, "on", args)
    assert (len(dbt_events), len(our_events)) == (dbt_writes, 1)
    assert json.dumps(ours, sort_keys=True).replace("/on/", "/X/") == json.dumps(dbts, sort_keys=True).replace(
        "/off/", "/X/")
