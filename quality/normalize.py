"""Normalisers for identity matching: email, phone (E.164), company name, person name.

The Python functions are the definition. The identity map runs over whole tables in DuckDB,
so each normaliser also has a SQL twin (`*_sql`) built from the same tables of suffixes and
rules; the tests hold the two to the same answers. Phone numbers that the SQL fast path does
not settle (landlines, unusual formats) go to `phonenumbers` through a DuckDB Python UDF.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import duckdb
import phonenumbers
import pyarrow as pa

DEFAULT_REGION = "CN"

# Legal-form suffixes, longest first so "股份有限公司" goes before "有限公司". Stripped
# repeatedly from the end of the lower-cased, NFKC-normalised name.
CN_SUFFIXES = ["集团股份有限公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司", "集团", "公司"]
EN_SUFFIXES = [
    "company limited", "co., ltd.", "co., ltd", "co. ltd.", "co. ltd", "co ltd", "co.,ltd.", "co.,ltd",
    "pte. ltd.", "pte ltd", "limited", "ltd.", "ltd", "incorporated", "inc.", "inc", "llc", "l.l.c.",
    "gmbh", "corporation", "corp.", "corp", "s.a.s.", "sas", "plc", "ag", "s.a.", "pte.", "pte", "co.", "co",
]
COMPANY_SUFFIXES = sorted(CN_SUFFIXES + EN_SUFFIXES, key=len, reverse=True)
# One pass strips a run of suffixes ("集团有限公司", "Pte. Ltd."); a suffix starts the name,
# or follows a space, punctuation or a CJK character. The same pattern runs in DuckDB (RE2).
_SUFFIX_ALTERNATIVES = "|".join(re.escape(s) for s in COMPANY_SUFFIXES)
_SUFFIX_RE = re.compile(r"(^|[\s,.)\u4e00-\u9fff])(?:(?:" + _SUFFIX_ALTERNATIVES + r")[\s,.]*)+$")
# After suffixes are gone, only letters and digits (any script) identify a name.
_NOT_WORD_RE = re.compile(r"[\W_]+", re.UNICODE)

_MOBILE_CN = re.compile(r"1[3-9]\d{9}")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def normalize_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased; None when there is no plausible address."""
    if raw is None:
        return None
    email = _nfkc(str(raw)).strip().lower()
    return email if "@" in email else None


@lru_cache(maxsize=65536)
def normalize_phone(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """E.164 (`+8613812345678`) via phonenumbers; Chinese mobiles in any common writing.

    "(0)" is a trunk prefix written beside an international code (`+86 (0)138 ...`); it is
    never dialled, so it is dropped before parsing. Numbers that cannot be parsed give None.
    """
    if raw is None:
        return None
    text = _nfkc(str(raw)).strip().replace("(0)", "")
    if not any(ch.isdigit() for ch in text):
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    # A Chinese mobile written with a leading 0 (or +86 0...) parses with the 0 kept.
    if number.country_code == 86 and national.startswith("0") and _MOBILE_CN.fullmatch(national[1:]):
        number.national_number = int(national[1:])
    if not phonenumbers.is_possible_number(number) and not _MOBILE_CN.fullmatch(str(number.national_number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_company(raw: str | None) -> str | None:
    """Company identity: NFKC (full/half width), case, spaces, punctuation and legal suffixes removed.

    A name that is nothing but a suffix keeps it, rather than matching every such name.
    """
    if raw is None:
        return None
    text = _nfkc(str(raw)).lower()
    key = _NOT_WORD_RE.sub("", _SUFFIX_RE.sub(r"\1", text)) or _NOT_WORD_RE.sub("", text)
    return key or None


def normalize_person_name(raw: str | None) -> str | None:
    """NFKC, lower-case, no spaces ("张 三", "张三　" and "ZHANG SAN" variants meet)."""
    if raw is None:
        return None
    key = _NOT_WORD_RE.sub("", _nfkc(str(raw)).lower())
    return key or None


# --- SQL twins -------------------------------------------------------------------------

# NFKC's effect on the text we see: full-width ASCII (U+FF01..U+FF5E) and the ideographic space.
_FULL = "".join(chr(c + 0xFEE0) for c in range(0x21, 0x7F)) + "\u3000"
_HALF = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def nfkc_sql(expr: str) -> str:
    # translate() is slow in DuckDB; only the rare rows with full-width characters pay for it.
    return (
        f"case when regexp_matches({expr}, '[\\x{{ff01}}-\\x{{ff5e}}\\x{{3000}}]') "
        f"then translate({expr}, {_lit(_FULL)}, {_lit(_HALF)}) else {expr} end"
    )


def email_sql(expr: str) -> str:
    value = f"lower(trim({nfkc_sql(expr)}))"
    return f"case when {value} like '%@%' then {value} end"


def person_name_sql(expr: str) -> str:
    return f"nullif(regexp_replace(lower({nfkc_sql(expr)}), '[^\\p{{L}}\\p{{N}}]+', '', 'g'), '')"


def company_sql(expr: str) -> str:
    value = f"lower({nfkc_sql(expr)})"
    pattern = _lit(f"(^|[\\s,.)\\x{{4e00}}-\\x{{9fff}}])(?:(?:{_SUFFIX_ALTERNATIVES})[\\s,.]*)+$")
    stripped = f"nullif(regexp_replace(regexp_replace({value}, {pattern}, '\\1'), '[^\\p{{L}}\\p{{N}}]+', '', 'g'), '')"
    whole = f"nullif(regexp_replace({value}, '[^\\p{{L}}\\p{{N}}]+', '', 'g'), '')"
    return f"coalesce({stripped}, {whole})"


def phone_fast_sql(expr: str) -> str:
    """The SQL part of phone normalisation: Chinese mobiles (the bulk), else NULL.

    Keeping only digits and '+', a Chinese mobile is 11 digits starting 1[3-9], optionally
    after +86 / 0086 / 86 and a trunk 0.
    """
    compact = f"regexp_replace(replace({nfkc_sql(expr)}, '(0)', ''), '[^0-9+]', '', 'g')"
    mobile = f"regexp_extract({compact}, '^(?:\\+86|0086|86)?0?(1[3-9][0-9]{{9}})$', 1)"
    return f"nullif('+86' || {mobile}, '+86')"


def phone_sql(expr: str, udf: str = "sfa_normalize_phone") -> str:
    """Fast path in SQL, phonenumbers (UDF) for the rest. For bulk work prefer `phone_map`:
    DuckDB calls a UDF inside CASE/COALESCE in tiny batches."""
    return f"coalesce({phone_fast_sql(expr)}, case when nullif(trim({expr}), '') is not null then {udf}({expr}) end)"


def phone_map(con: duckdb.DuckDBPyConnection, source_sql: str, table: str) -> None:
    """`table(raw, e164)` for the distinct numbers of `source_sql` (one column `raw`) that the
    SQL fast path does not settle (foreign numbers, landlines), normalised by phonenumbers.

    Only those distinct leftovers come to Python, as one Arrow column; a UDF would be called
    by DuckDB in small batches and costs far more than phonenumbers itself.
    """
    raws = con.sql(
        f"""select distinct raw from ({source_sql})
        where nullif(trim(raw), '') is not null and {phone_fast_sql('raw')} is null"""
    ).to_arrow_table().column("raw").to_pylist()
    mapping = pa.table(
        {"raw": pa.array(raws, pa.string()), "e164": pa.array([normalize_phone(r) for r in raws], pa.string())}
    )
    con.register("_phone_map_arrow", mapping)
    try:
        con.execute(f"create or replace temp table {table} as select * from _phone_map_arrow")
    finally:
        con.unregister("_phone_map_arrow")


def _phone_batch(values: pa.Array) -> pa.Array:
    return pa.array([normalize_phone(v) for v in values.to_pylist()], pa.string())


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """`sfa_normalize_phone(varchar) -> varchar` backed by phonenumbers (idempotent).

    Vectorised (Arrow batches): a per-row Python UDF costs more than phonenumbers itself.
    """
    try:
        con.create_function(
            "sfa_normalize_phone",
            _phone_batch,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            type="arrow",
            null_handling="special",
            side_effects=False,
        )
    except (duckdb.Error, duckdb.NotImplementedException) as exc:  # already registered here
        if "already" not in str(exc):
            raise
