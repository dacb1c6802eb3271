"""Rules -> DuckDB SQL.

Two relations are involved:
- the *flat* table of a stream: one row per landed raw row that is not a tombstone, with the
  declared fields pulled out of `_record` once (cleaned text) plus `_row`, `_batch_id`,
  `_record_id`, `_cursor` and `_is_current` (latest version of its record);
- `{rel}` in the queries below: the flat table itself (our evaluation, every version) or the
  current rows only (the Great Expectations batch).

Every rule compiles to a *failing rows query* selecting `_row`, `reason` from `{rel}`, so
the quarantine and Great Expectations count exactly the same rows.
"""

from __future__ import annotations

from quality.schema import (
    AcceptedValues,
    Expression,
    NoRepeats,
    FieldSpec,
    Ordered,
    Pattern,
    Range,
    Reference,
    Required,
    RequiredAny,
    Rule,
    RuleSet,
    Unique,
    UniqueVersion,
)

RAW_SCHEMA = "raw"
# Business dates (CRM `close_date`, ERP dates) are Asia/Shanghai days.
BUSINESS_UTC_OFFSET_HOURS = 8
# Text that means "no value" on the wire: Odoo sends `false` for empty fields, lists may be empty.
EMPTY_TEXTS = ("", "false", "null", "[]", "{}")

# Latest version per source id (contract section 4): highest cursor (numeric when it is a
# number, so ms cursors of different length still order), then the latest landing.
CURRENT_ORDER = "try_cast(_cursor as bigint) desc nulls last, _cursor desc nulls last, _extracted_at desc, rowid desc"
# The same order as one comparable key, for arg_max: an aggregate is far cheaper than a
# window sort that drags the rows along (cursors are positive ms or ISO/Odoo datetimes).
CURRENT_KEY = "(coalesce(try_cast(_cursor as bigint), -1), coalesce(_cursor, ''), _extracted_at, rowid)"


def current_rows_sql(stream: str) -> str:
    """`_row` (raw rowid) of the current version of every record of a raw table."""
    return f"select arg_max(rowid, {CURRENT_KEY}) as _row from {raw_table(stream)} group by _record_id"


def q(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table(stream: str) -> str:
    return f"{RAW_SCHEMA}.{ident(stream)}"


def clean_text(expr: str, spec: FieldSpec | None = None, source: str = "erp") -> str:
    """Trimmed text, NULL when empty. Only Odoo sends `false` for empty fields and only list
    fields can be `[]`, so the cheaper form is used where those cannot occur."""
    empties = [""]
    if source in ("erp", "file"):
        empties += ["false"]
    if spec is None or spec.type == "list":
        empties += ["[]", "{}"]
    if spec is None:
        empties = list(EMPTY_TEXTS)
    if empties == [""]:
        return f"nullif(trim({expr}), '')"
    listed = ", ".join(q(e) for e in empties)
    return f"case when trim({expr}) in ({listed}) then null else trim({expr}) end"


def typed(column: str, spec: FieldSpec) -> str:
    """The comparable value of a flattened text column; NULL when it does not parse."""
    col = ident(column)
    match spec.type:
        case "number":
            return f"try_cast({col} as double)"
        case "ms":
            return f"make_timestamp(try_cast({col} as bigint) * 1000)"
        case "date":
            return f"try_cast(try_cast({col} as date) as timestamp)"
        case "datetime":
            return f"try_cast({col} as timestamp)"
        case "iso":
            # ISO-8601 with Z or an offset, compared in UTC
            return f"try_cast(timezone('UTC', try_cast({col} as timestamptz)) as timestamp)"
        case "bool":
            return f"try_cast({col} as boolean)"
        case _:
            return col


def business_day(column: str, spec: FieldSpec) -> str:
    """The Asia/Shanghai calendar day of a time field (dates are already days)."""
    value = typed(column, spec)
    if spec.type == "date":
        return f"cast({value} as date)"
    return f"cast({value} + interval {BUSINESS_UTC_OFFSET_HOURS} hour as date)"


def flat_select(ruleset: RuleSet, current: str) -> str:
    """SQL creating the flat relation of one stream: one JSON parse per raw row.

    `current` is a relation of `_row` (see current_rows_sql) marking the current versions.
    """
    names = list(ruleset.fields)
    paths = ", ".join(q(ruleset.fields[n].path) for n in names)
    cols = ",\n        ".join(
        f"{clean_text(f'_v[{i + 1}]', ruleset.fields[n], ruleset.source)} as {ident(n)}" for i, n in enumerate(names)
    )
    extract = f"json_extract_string(r._record, [{paths}]) as _v" if names else "null as _v"
    return f"""
select _row, _batch_id, _record_id, _cursor, _is_current{',' if names else ''}
        {cols}
from (
    select r.rowid as _row, r._batch_id, r._record_id, r._cursor, r._deleted,
           c._row is not null as _is_current,
           {extract}
    from {raw_table(ruleset.stream)} r left join {current} c on c._row = r.rowid
)
where not _deleted
"""


def _missing_list(fields: list[str]) -> str:
    parts = ", ".join(f"case when {ident(f)} is null then {q(f)} end" for f in fields)
    return f"concat_ws(', ', {parts})"


def _parent_keys(rule: Reference, rulesets: dict[str, RuleSet], existing: set[str]) -> str:
    """Keys of the referenced table; a table never landed has no keys (so references fail)."""
    if rule.to not in existing:
        return "(select null::varchar as k where false)"
    if rule.to_field == "_record_id":
        return f"(select distinct _record_id as k from {raw_table(rule.to)})"
    spec = rulesets[rule.to].fields[rule.to_field]
    return (
        f"(select distinct {clean_text(f'json_extract_string(_record, {q(spec.path)})')} as k "
        f"from {raw_table(rule.to)})"
    )


def failing_rows_sql(
    rule: Rule,
    ruleset: RuleSet,
    *,
    rel: str = "{rel}",
    rulesets: dict[str, RuleSet] | None = None,
    existing_tables: set[str] | None = None,
) -> str:
    """`select _row, reason from rel where <the row breaks the rule>`."""
    f = ruleset.fields
    where: str
    reason: str
    match rule:
        case Required(fields=fields):
            where = " or ".join(f"{ident(x)} is null" for x in fields)
            reason = f"'missing: ' || {_missing_list(fields)}"
        case RequiredAny(fields=fields):
            where = " and ".join(f"{ident(x)} is null" for x in fields)
            reason = q("none of " + ", ".join(fields) + " present")
        case AcceptedValues(field=field, values=values):
            allowed = ", ".join(q(v) for v in values)
            where = f"{ident(field)} is not null and {ident(field)} not in ({allowed})"
            reason = f"{q(field + ' = ')} || {ident(field)} || {q(' not in [' + ', '.join(values) + ']')}"
        case Range(field=field, min=lo, max=hi):
            value = typed(field, FieldSpec(path="$", type="number"))
            outside = [f"{value} is null"]
            if lo is not None:
                outside.append(f"{value} < {lo!r}")
            if hi is not None:
                outside.append(f"{value} > {hi!r}")
            where = f"{ident(field)} is not null and ({' or '.join(outside)})"
            bounds = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
            reason = (
                f"{q(field + ' = ')} || {ident(field)} || "
                f"case when {value} is null then ' is not a number' else {q(' outside ' + bounds)} end"
            )
        case Pattern(field=field, regex=regex):
            where = f"{ident(field)} is not null and not regexp_full_match({ident(field)}, {q(regex)})"
            reason = f"{q(field + ' = ')} || {ident(field)} || {q(' does not match ' + regex)}"
        case Ordered(earlier=earlier, later=later):
            lo, hi = business_day(earlier, f[earlier]), business_day(later, f[later])
            where = f"{lo} is not null and {hi} is not null and {hi} < {lo}"
            reason = f"{q(later + ' ')} || {hi}::varchar || {q(' before ' + earlier + ' ')} || {lo}::varchar"
        case Reference(field=field, many=False):
            keys = _parent_keys(rule, rulesets or {}, existing_tables or set())
            where = f"{ident(field)} is not null and not exists (select 1 from {keys} p where p.k = {ident(field)})"
            reason = f"{q(field + ' = ')} || {ident(field)} || {q(' not found in ' + rule.to)}"
        case Reference(field=field, many=True):
            keys = _parent_keys(rule, rulesets or {}, existing_tables or set())
            elements = f"unnest(coalesce(try_cast(json({ident(field)}) as varchar[]), [{ident(field)}]))"
            missing = f"(select list(e) from (select {elements} as e) where not exists (select 1 from {keys} p where p.k = e))"
            return (
                f"select _row, {q(field + ' ')} || m::varchar || {q(' not found in ' + rule.to)} as reason "
                f"from (select _row, {missing} as m from {rel} where {ident(field)} is not null) where len(m) > 0"
            )
        case Unique(columns=columns):
            cols = ", ".join(ident(c) for c in columns)
            notnull = " and ".join(f"{ident(c)} is not null" for c in columns)
            return (
                f"select _row, 'duplicate of ' || _keep || ' on ({', '.join(columns)})' as reason from ("
                f"select _row, row_number() over w as _rn, first_value(_record_id) over w as _keep "
                f"from {rel} where _is_current and {notnull} "
                f"window w as (partition by {cols} order by try_cast(_cursor as bigint) desc nulls last, "
                f"_cursor desc, _record_id)) where _rn > 1"
            )
        case UniqueVersion():
            return _versions_sql(ruleset.stream, rel, conflicts=True)
        case NoRepeats():
            return _versions_sql(ruleset.stream, rel, conflicts=False)
        case Expression(sql=sql, reason=text):
            where = f"not coalesce(({sql}), true)"
            reason = q(text)
        case _:
            raise TypeError(f"unknown rule {rule!r}")
    return f"select _row, {reason} as reason from {rel} where {where}"


def _versions_sql(stream: str, rel: str, *, conflicts: bool) -> str:
    """Current rows whose version (id, cursor) landed more than once.

    Landing never re-lands a version an earlier run already landed, so a repeat is the
    source serving a record twice. `conflicts`: the copies differ in content (which one is
    current is then arbitrary); snapshot streams have no cursor and are judged on repeats only.
    """
    table = raw_table(stream)
    if conflicts:
        having, cursor_ok = "count(distinct t._record::varchar) > 1", "t._cursor is not null"
        reason = "'conflicting versions of ' || r._record_id || ' at cursor ' || r._cursor"
    else:
        having, cursor_ok = "count(*) > count(distinct t._record::varchar)", "true"
        reason = "'served ' || c.n || ' times: ' || r._record_id"
    return (
        f"select r._row, {reason} as reason from {rel} r join ("
        f"select t._record_id, t._cursor, count(*) as n from {table} t join ("
        f"select _record_id, coalesce(_cursor, '') as c from {table} group by all having count(*) > 1) d "
        f"on d._record_id = t._record_id and d.c = coalesce(t._cursor, '') where {cursor_ok} "
        f"group by all having {having}) c "
        f"on c._record_id = r._record_id and c._cursor is not distinct from r._cursor where r._is_current"
    )
