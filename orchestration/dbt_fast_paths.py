"""Faster ways for dbt's own Python to do what it does, with the same results (installed by `sfa-dbt`
before dbt starts). `SFA_DBT_FAST_PATHS=off` leaves dbt's code untouched.

**Log events.** dbt fires an event for every query, connection, cache action and node step (~4,000
in one `dbt build` of this project), each a protobuf message. dbt-common fills both the event and
its envelope with `google.protobuf.json_format.ParseDict`, a pure-Python walk over the message's
descriptors, and it builds the envelope and formats the line for every logger before Python's
logging drops what is below the logger's level. In a `dbt build` with nothing to do that was about a
quarter of the time dbt's Python held the interpreter (sampled with py-spy), single-threaded
however many threads dbt runs. Three changes, each falling back to dbt-common's own code where it
does not apply:
- An event is built with the message class's constructor (protobuf's C implementation). Values the
  constructor does not take the way `ParseDict` does (a timestamp or a number given as text, a wrong
  key) raise, and the event is then built by dbt-common's own `__init__`, with its own error
  handling; so is an event with a bool anywhere in it, which the constructor would take for an integer.
- The envelope (`EventInfo`) is filled field by field, the time stamp from the clock directly instead
  of formatting it to text and parsing that back.
- An event is dropped before its envelope is built when every logger's level is above the event's
  and no callback other than dbt's behaviour-change tracker (which reads only warnings) is
  registered; and a logger formats only the lines its level lets through. Warnings and errors always
  take dbt-common's path, which is where `--warn-error` turns them into failures.
The messages, lines and log files are the same as dbt's (the tests compare them).

**Type testers.** Every query result dbt fetches (run_query, statement blocks, tests) becomes an
agate table through a new `TypeTester`, whose date types each set up a parsedatetime calendar:
~5% of the same sample. The tester depends only on its two arguments and is never changed by use
(dbt itself shares one across threads for results without text columns), so one is kept per
argument pair.

**Artifacts.** dbt writes manifest.json right after parsing and again when the run ends, each time
with `json.dump`, which always encodes in Python (`json.dumps` encodes in C): ~0.1 s per manifest
here, and the first write delays the first node by ~0.3 s. Artifacts are encoded with `json.dumps`
(the same text), and the manifest written after parsing is kept until exit: a command that runs
nodes writes it when it ends, as dbt does, and any other (parse, ls, a run that stopped early)
writes the parsed one at exit. manifest.json ends up as dbt writes it, once per command.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
from datetime import datetime, timezone

from dbt_common.clients import agate_helper
from dbt_common.events import base_types, event_manager, logger
from dbt_common.events.base_types import BaseEvent, EventLevel

# Python logging levels of dbt's event levels (dbt-common's `_log_level_map`); the lines that dbt
# sends to Python's logging as errors whatever their level (`logger.PRINT_EVENT_NAMES`).
_LEVEL_NUMBERS = logger._log_level_map
_ALWAYS_ERROR = frozenset(logger.PRINT_EVENT_NAMES)
_ALWAYS_DBT = frozenset({EventLevel.WARN, EventLevel.ERROR})


@functools.cache
def _message_class(event_type: type, suffix: str = "") -> type:
    """An event class's protobuf message class (with suffix "Msg", its envelope's)."""
    return getattr(event_type.PROTO_TYPES_MODULE, event_type.__name__ + suffix)


def _has_bool(values) -> bool:
    for value in values:
        if value is True or value is False:
            return True
        kind = type(value)
        if (kind is dict and _has_bool(value.values())) or ((kind is list or kind is tuple) and _has_bool(value)):
            return True
    return False


def _fast_init(original):
    def __init__(self, *args, **kwargs) -> None:
        # Positional `Formatting("text")`, and bools: the constructor takes a bool for an integer
        # field where ParseDict refuses it for some integer types.
        if args or _has_bool(kwargs.values()):
            original(self, *args, **kwargs)
            return
        if "msg" in kwargs:
            kwargs["msg"] = str(kwargs["msg"])
        if "base_msg" in kwargs:
            kwargs["base_msg"] = str(kwargs["base_msg"])
        try:
            self.pb_msg = _message_class(type(self))(**kwargs)
        except Exception:  # a value only ParseDict converts, or one it rejects too
            original(self, **kwargs)

    return __init__


def msg_from_base_event(event: BaseEvent, level: EventLevel | None = None):
    """dbt-common's `msg_from_base_event` without the JSON round trip."""
    try:
        msg = _message_class(type(event), "Msg")()
        info = msg.info
        info.level = level.value if level else event.level_tag().value
        info.msg = event.message()
        info.invocation_id = base_types.get_invocation_id()
        info.extra.update(base_types.get_global_metadata_vars())
        info.ts.FromDatetime(datetime.now(timezone.utc).replace(tzinfo=None))
        info.pid = base_types.get_pid()
        info.thread = base_types.get_thread_name()
        info.code = event.code()
        info.name = type(event).__name__
        msg.data.CopyFrom(event.pb_msg)
    except (TypeError, ValueError, AttributeError):  # whatever dbt-common's version does with it
        return dbt_own(event_manager, "msg_from_base_event")(event, level=level)
    return msg


def _level_number(name: str, level: str) -> int | None:
    """The Python logging level a logger sends the event `name` of dbt level `level` at."""
    return _LEVEL_NUMBERS.get(EventLevel.ERROR if name in _ALWAYS_ERROR else level)


def _is_read(manager, event: BaseEvent, level: EventLevel) -> bool:
    """False when no logger and no callback of `manager` would take the event."""
    if any(callback is not _TRACKER for callback in manager.callbacks):
        return True
    number = _level_number(type(event).__name__, level)
    if number is None:  # a level dbt-common's loggers do not know: its own code decides
        return True
    for each in manager.loggers:
        python_logger = each._python_logger
        if python_logger is not None and python_logger.isEnabledFor(number):
            return True
    return False


def _fire_event(original):
    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        effective = level or e.level_tag()
        if (force_warn_or_error_handling or effective in _ALWAYS_DBT
                or os.environ.get("DBT_TEST_BINARY_SERIALIZATION") or _is_read(self, e, effective)):
            original(self, e, level, node, force_warn_or_error_handling)

    return fire_event


def _write_line(original):
    def write_line(self, msg) -> None:
        python_logger = self._python_logger
        if python_logger is not None:
            number = _level_number(msg.info.name, msg.info.level)
            if number is not None and not python_logger.isEnabledFor(number):
                return
        original(self, msg)

    return write_line


def _shared_type_testers(original):
    @functools.lru_cache(maxsize=256)
    def shared(text_columns: tuple, string_null_values):
        return original(text_columns, string_null_values)

    def build_type_tester(text_columns, string_null_values=("null", "")):
        key = None if string_null_values is None else tuple(string_null_values)
        return shared(tuple(sorted(text_columns)), key)

    return build_type_tester


def _one_shot_json(original):
    """dbt-common's write_json with the whole text encoded at once: `json.dump` always encodes in
    Python, `json.dumps` in C. The same text; the file is not opened when the data cannot be encoded."""
    from dbt_common.clients import system
    from dbt_common.utils.encoding import JSONEncoder

    def write_json(path: str, data) -> bool:
        return system.write_file(path, json.dumps(data, cls=JSONEncoder))

    return write_json


# The manifest dbt parsed, not yet written: (manifest, target path, which).
_PARSED_MANIFEST: list[tuple] = []


def _manifest_write_after_parse(original):
    """Kept until exit: a command that runs nodes writes the manifest again when it ends, so the
    write right after parsing only delays its first node."""

    def write_manifest(manifest, target_path: str, which=None) -> None:
        _PARSED_MANIFEST[:] = [(manifest, target_path, which)]

    return write_manifest


def _manifest_write_at_end(original):
    def write_manifest(manifest, target_path: str, which=None) -> None:
        _PARSED_MANIFEST.clear()
        original(manifest, target_path, which)

    return write_manifest


def _write_parsed_manifest_if_pending() -> None:
    """At exit: the parsed manifest, for commands that did not write one since (parse, ls, a run that
    stopped early)."""
    if _PARSED_MANIFEST:
        from dbt.parser import manifest as parser

        manifest, target_path, which = _PARSED_MANIFEST.pop()
        dbt_own(parser, "write_manifest")(manifest, target_path, which)


# (owner, attribute, dbt's own value) of every patch, in the order made.
_PATCHES: list[tuple[object, str, object]] = []
_TRACKER = None


def _patch(owner, name: str, new) -> None:
    original = getattr(owner, name)
    new.__wrapped__ = original  # as functools.wraps marks a wrapper: inspect and tests find dbt's code
    _PATCHES.append((owner, name, original))
    setattr(owner, name, new)


def dbt_own(owner, name: str):
    """What `owner.name` was before install()."""
    for patched, attribute, value in _PATCHES:
        if patched is owner and attribute == name:
            return value
    return getattr(owner, name)


def install() -> bool:
    """Install the fast paths (once per process); False when `SFA_DBT_FAST_PATHS=off` keeps dbt's code."""
    global _TRACKER
    if os.environ.get("SFA_DBT_FAST_PATHS", "on").lower() == "off":
        return False
    if _PATCHES:
        return True
    from dbt.artifacts.schemas import base as artifacts_base
    from dbt.artifacts.schemas.run.v5 import run as run_results
    from dbt.parser import manifest as parser
    from dbt.task import runnable
    from dbt.task.docs import generate
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.clients import system

    _TRACKER = track_behavior_change_warn
    _patch(BaseEvent, "__init__", _fast_init(BaseEvent.__init__))
    _patch(event_manager, "msg_from_base_event", msg_from_base_event)
    _patch(event_manager.EventManager, "fire_event", _fire_event(event_manager.EventManager.fire_event))
    _patch(logger._Logger, "write_line", _write_line(logger._Logger.write_line))
    _patch(agate_helper, "build_type_tester", _shared_type_testers(agate_helper.build_type_tester))
    for module in (system, artifacts_base, run_results):  # write_json, and where it was imported by name
        _patch(module, "write_json", _one_shot_json(module.write_json))
    _patch(parser, "write_manifest", _manifest_write_after_parse(parser.write_manifest))
    for module in (runnable, generate):
        _patch(module, "write_manifest", _manifest_write_at_end(module.write_manifest))
    atexit.register(_write_parsed_manifest_if_pending)
    return True


def uninstall() -> None:
    """dbt's own code again (for tests)."""
    atexit.unregister(_write_parsed_manifest_if_pending)
    _PARSED_MANIFEST.clear()
    while _PATCHES:
        owner, name, value = _PATCHES.pop()
        setattr(owner, name, value)
