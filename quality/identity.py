"""Identity resolution: which current records are the same person or the same customer.

Records become nodes, normalised identifiers become keys: strong keys (email, E.164 phone,
tax id) link any records that share them, and the connected components are the identity
clusters; weak keys (person name + company, company name) only attach records that have no
strong key, and only to a single cluster. Everything runs in DuckDB SQL: the normalisers have SQL
twins (quality/normalize.py) and components come from min-label propagation over the
record-key table, which converges in as many rounds as the longest chain of links (2-3 here).
Splink would add probabilistic matching, but every duplicate we must catch shares at least one
exact normalised identifier, so deterministic rules are exact, explainable and much faster.

Spaces: leads cluster among leads, contacts among contacts (as the truth manifest counts
them), and CRM accounts with ERP customers in one customer space (tax id first, then name).
Survivor of a cluster: a live record before a tombstone, for customers the CRM account before
the ERP customer, then the most recently modified, then the most complete, then the lowest id.
`canonical_id` is the survivor's `<source>:<record_id>`, the same form dbt falls back to.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from quality.compile import clean_text, current_rows_sql, ident, q, raw_table
from quality.normalize import company_sql, email_sql, nfkc_sql, person_name_sql, phone_fast_sql, phone_map, register_udfs
from quality.tables import SCHEMA, connect, raw_tables

MAX_ROUNDS = 50


@dataclass(frozen=True)
class EntitySpec:
    stream: str
    source: str
    space: str
    fields: dict[str, str]  # name -> JSON path
    phones: tuple[str, ...]  # fields normalised to E.164 into `<field>_e164`
    keys: dict[str, str]  # strong key kind -> SQL over the fields (NULL = no key)
    weak_keys: dict[str, WeakKey]  # used only by records that have no strong key
    priority: int = 0  # lower wins the survivorship within a space


@dataclass(frozen=True)
class WeakKey:
    """`key` is computed only for rows whose cheap `block` value some record without a strong
    key shares (None: for every row), so a costly normaliser does not run a million times."""

    key: str
    block: str | None = None


def _company_prefix(expr: str) -> str:
    """First characters of a company name (the city and core of a Chinese name): cheap blocking."""
    return f"left(replace(lower(trim({nfkc_sql(expr)})), ' ', ''), 4)"


def _pair(a: str, b: str) -> str:
    return f"case when {a} is not null and {b} is not null then {a} || '|' || {b} end"


PEOPLE_FIELDS = {"name": "$.name", "email": "$.email", "mobile": "$.mobile", "tel": "$.tel"}
ENTITIES = [
    EntitySpec(
        "crm_leads", "crm", "lead",
        {**PEOPLE_FIELDS, "company": "$.company"},
        ("mobile", "tel"),
        {"email": email_sql("email"), "mobile": "mobile_e164", "tel": "tel_e164"},
        {"name_company": WeakKey(_pair(person_name_sql("name"), company_sql("company")),
                                 _pair(person_name_sql("name"), _company_prefix("company")))},
    ),
    EntitySpec(
        "crm_contacts", "crm", "contact",
        {**PEOPLE_FIELDS, "account_id": "$.account_id"},
        ("mobile", "tel"),
        {"email": email_sql("email"), "mobile": "mobile_e164", "tel": "tel_e164"},
        {"name_account": WeakKey(_pair(person_name_sql("name"), "account_id"), person_name_sql("name"))},
    ),
    EntitySpec(
        "crm_accounts", "crm", "customer",
        {"name": "$.name", "tax_id": "$.uniform_social_credit_code"},
        (),
        {"tax_id": "upper(tax_id)"},
        {"company": WeakKey(company_sql("name"))},
        priority=0,
    ),
    EntitySpec(
        "erp_customers", "erp", "customer",
        {"name": "$.name", "tax_id": "$.vat"},
        (),
        {"tax_id": "upper(tax_id)"},
        {"company": WeakKey(company_sql("name"))},
        priority=1,
    ),
]


def _nodes_sql(spec: EntitySpec) -> str:
    names = list(spec.fields)
    paths = ", ".join(q(p) for p in spec.fields.values())
    cols = ", ".join(f"{clean_text(f'_v[{i + 1}]')} as {ident(n)}" for i, n in enumerate(names))
    filled = " + ".join(f"({ident(n)} is not null)::int" for n in names)
    return f"""
        select {q(spec.stream)} as entity, {q(spec.source)} as source, {spec.priority} as priority,
               _record_id as record_id, _deleted as deleted, _cursor as cursor, {filled} as filled, *
               exclude (_record_id, _deleted, _cursor)
        from (
            select _record_id, _deleted, _cursor, {cols}
            from (
                select _record_id, _deleted, _cursor, json_extract_string(_record, [{paths}]) as _v
                from {raw_table(spec.stream)}
                where rowid in ({current_rows_sql(spec.stream)})
            )
        )
    """


def _add_phones(con: duckdb.DuckDBPyConnection, spec: EntitySpec) -> None:
    if not spec.phones:
        return
    raws = " union all ".join(f"select {ident(f)} as raw from _id_src" for f in spec.phones)
    phone_map(con, raws, "_id_phone_map")
    cols = ", ".join(
        f"coalesce({phone_fast_sql(f's.{ident(f)}')}, m{i}.e164) as {ident(f + '_e164')}"
        for i, f in enumerate(spec.phones)
    )
    joins = " ".join(
        f"left join _id_phone_map m{i} on m{i}.raw = s.{ident(f)}" for i, f in enumerate(spec.phones)
    )
    con.execute(f"create or replace temp table _id_src as select s.*, {cols} from _id_src s {joins}")


def _build_space(con: duckdb.DuckDBPyConnection, specs: list[EntitySpec]) -> tuple[int, int]:
    """Cluster one space; returns (records, clusters). Leaves temp table `_id_canonical`."""
    con.execute("create or replace temp table _id_nodes (node bigint, entity varchar, source varchar, "
                "priority int, record_id varchar, deleted boolean, cursor varchar, filled int)")
    con.execute("create or replace temp table _id_keys (node bigint, key varchar)")
    con.execute("create or replace temp table _id_weak (node bigint, key varchar)")
    offset = 0
    for spec in specs:
        con.execute(f"create or replace temp table _id_src as {_nodes_sql(spec)}")
        _add_phones(con, spec)
        # node ids carried on the source rows, so keys need no join back to the nodes
        con.execute(f"create or replace temp table _id_src as select {offset} + row_number() over () as node, * from _id_src")
        con.execute(
            "insert into _id_nodes select node, entity, source, priority, record_id, deleted, cursor, filled from _id_src"
        )
        strong = " union all ".join(
            f"select node, {q(kind + ':')} || ({sql}) as key from _id_src" for kind, sql in spec.keys.items()
        )
        con.execute(f"insert into _id_keys select node, key from ({strong}) where key is not null")
        for kind, weak in spec.weak_keys.items():
            rows = "_id_src"
            if weak.block:
                con.execute(
                    f"""create or replace temp table _id_blocks as
                    select distinct {weak.block} as b from _id_src
                    where not exists (select 1 from _id_keys s where s.node = _id_src.node)"""
                )
                rows = f"(select * from _id_src where {weak.block} in (select b from _id_blocks))"
            con.execute(
                f"""insert into _id_weak select node, key
                from (select node, {q(kind + ':')} || ({weak.key}) as key from {rows}) where key is not null"""
            )
        offset = con.execute("select coalesce(max(node), 0) from _id_nodes").fetchone()[0]
    con.execute("create or replace temp table _id_labels as select node, node as label from _id_nodes")
    for _ in range(MAX_ROUNDS):
        con.execute(
            """create or replace temp table _id_next as
            with key_min as (
                select k.key, min(l.label) as label from _id_keys k join _id_labels l using (node) group by k.key
            )
            select l.node, least(l.label, coalesce(min(km.label), l.label)) as label
            from _id_labels l
            left join _id_keys k using (node)
            left join key_min km using (key)
            group by l.node, l.label"""
        )
        changed = con.execute(
            "select count(*) from _id_next n join _id_labels l using (node) where n.label <> l.label"
        ).fetchone()[0]
        con.execute("create or replace temp table _id_labels as select * from _id_next")
        if changed == 0:
            break
    else:
        raise RuntimeError(f"identity clustering did not converge in {MAX_ROUNDS} rounds")
    _attach_weak(con)
    con.execute(
        """create or replace temp table _id_canonical as
        select n.entity, n.source, n.record_id,
               first_value(n.source || ':' || n.record_id) over (
                   partition by l.label
                   order by n.deleted, n.priority, try_cast(n.cursor as bigint) desc nulls last,
                            n.cursor desc nulls last, n.filled desc, n.record_id
               ) as canonical_id
        from _id_nodes n join _id_labels l using (node)"""
    )
    records, clusters = con.execute(
        "select count(*), count(distinct canonical_id) from _id_canonical"
    ).fetchone()
    return records, clusters


def _attach_weak(con: duckdb.DuckDBPyConnection) -> None:
    """Records without any strong key (a lead with neither email nor phone) join by a weak key.

    Weak keys (person name + company) are not unique in the world: two people of one name work
    at one company. So a weak key only attaches a record that has nothing better, and only when
    it points at a single cluster; weak-only records sharing a weak key cluster together.
    """
    con.execute(
        """create or replace temp table _id_weak_only as
        select w.node, w.key from _id_weak w where not exists (select 1 from _id_keys k where k.node = w.node)"""
    )
    con.execute(
        """create or replace temp table _id_adopt as
        with strong_by_key as (
            select w.key, min(l.label) as label, count(distinct l.label) as labels
            from _id_weak w join _id_labels l using (node)
            where exists (select 1 from _id_keys k where k.node = w.node)
            group by w.key
        ), weak_by_key as (
            select key, min(node) as label from _id_weak_only group by key
        )
        select o.node,
               case when count(distinct s.label) = 1 and max(s.labels) = 1 then min(s.label)
                    when count(s.label) = 0 then min(wk.label) end as label
        from _id_weak_only o
        left join strong_by_key s using (key)
        left join weak_by_key wk using (key)
        group by o.node"""
    )
    con.execute(
        """update _id_labels set label = a.label from _id_adopt a
        where _id_labels.node = a.node and a.label is not null"""
    )


def build_identity_map(warehouse: str | Path | duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild `quality.identity_map` for every landed people/customer stream.

    Returns records and distinct canonical ids per space (`lead_records`, `lead_clusters`, ...).
    """
    con = connect(warehouse)
    register_udfs(con)
    summary: dict[str, int] = {}
    try:
        landed = raw_tables(con)
        spaces: dict[str, list[EntitySpec]] = {}
        for spec in ENTITIES:
            if spec.stream in landed:
                spaces.setdefault(spec.space, []).append(spec)
        for space, specs in spaces.items():
            con.execute("begin")  # one transaction per space: the map of its entities is replaced at once
            try:
                records, clusters = _build_space(con, specs)
                summary[f"{space}_records"], summary[f"{space}_clusters"] = records, clusters
                entities = ", ".join(q(s.stream) for s in specs)
                con.execute(f"delete from {SCHEMA}.identity_map where entity in ({entities})")
                con.execute(
                    f"insert into {SCHEMA}.identity_map select entity, source, record_id, canonical_id from _id_canonical"
                )
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        for table in ("_id_nodes", "_id_keys", "_id_weak", "_id_weak_only", "_id_adopt", "_id_src", "_id_labels",
                      "_id_next", "_id_canonical", "_id_phone_map", "_id_blocks"):
            con.execute(f"drop table if exists {table}")
    finally:
        if not isinstance(warehouse, duckdb.DuckDBPyConnection):
            con.close()
    return summary
