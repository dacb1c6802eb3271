"""Normalisers: the Python definition and its DuckDB SQL twin give the same answers."""

from __future__ import annotations

import duckdb
import pytest

from quality.normalize import (
    company_sql,
    email_sql,
    normalize_company,
    normalize_email,
    normalize_person_name,
    normalize_phone,
    person_name_sql,
    phone_sql,
    register_udfs,
)

MOBILE = "+8613812345678"
CN_MOBILE_VARIANTS = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+86 138 1234 5678",
    "+86-138-1234-5678",
    "+8613812345678",
    "0086 138 1234 5678",
    "0086-138-1234-5678",
    "86 138 1234 5678",
    "013812345678",
    "+86 (0)138 1234 5678",
    "(+86) 138-1234-5678",
    " 138 1234 5678 ",
    "１３８１２３４５６７８",  # full-width digits
]
OTHER_PHONES = {
    "+65 12345678": "+6512345678",
    "0065 12345678": "+6512345678",
    "(+65) 12345678": "+6512345678",
    "+65 (0)12345678": "+6512345678",
    "+65-123-45678": "+6512345678",
    "+1 415 555 0123": "+14155550123",
    "001 415 555 0123": "+14155550123",
    "0755-12345678": "+8675512345678",  # Shenzhen landline
    "+86 755 1234 5678": "+8675512345678",
}
COMPANY = {
    "深圳云立机械有限公司": "深圳云立机械",
    "深圳云立机械股份有限公司": "深圳云立机械",
    "深圳云立机械有限责任公司": "深圳云立机械",
    "深圳云立机械公司": "深圳云立机械",
    "深圳云立机械集团": "深圳云立机械",
    "深圳云立机械集团有限公司": "深圳云立机械",
    " 深圳云立机械 有限公司 ": "深圳云立机械",
    "深圳云立机械 Co., Ltd.": "深圳云立机械",
    "ＢｌｕｅＮｏｖａ　Ｄｉｇｉｔａｌ　（Ｓｉｎｇａｐｏｒｅ）　Ｐｔｅ．　Ｌｔｄ．": "bluenovadigitalsingapore",
    "BlueNova Digital (Singapore) Pte. Ltd.": "bluenovadigitalsingapore",
    "BLUENOVA DIGITAL (SINGAPORE) CO., LTD.": "bluenovadigitalsingapore",
    "BlueNova  Digital  (Singapore)  Co. Ltd": "bluenovadigitalsingapore",
    "Acme Widgets Inc.": "acmewidgets",
    "Acme Widgets, Inc": "acmewidgets",
    "Acme Widgets LLC": "acmewidgets",
    "Acme Widgets GmbH": "acmewidgets",
    "Acme Widgets Limited": "acmewidgets",
}
NAMES = {"张三": "张三", "张 三": "张三", " 张三 ": "张三", "张三\u3000": "张三", "John Smith": "johnsmith",
         "JOHN  SMITH": "johnsmith", " John Smith ": "johnsmith"}
EMAILS = {"john.smith@foo.com": "john.smith@foo.com", "JOHN.SMITH@FOO.COM": "john.smith@foo.com",
          " John.Smith@Foo.com  ": "john.smith@foo.com", "ｊｏｈｎ＠ｆｏｏ．ｃｏｍ": "john@foo.com",
          "not-an-email": None, "": None}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    register_udfs(c)
    return c


def sql_value(con: duckdb.DuckDBPyConnection, twin, value: str | None):
    return con.execute(f"select {twin('x')} from (select ?::varchar as x)", [value]).fetchone()[0]


@pytest.mark.parametrize("raw", CN_MOBILE_VARIANTS)
def test_chinese_mobile_variants_are_one_e164_number(con, raw):
    assert normalize_phone(raw) == MOBILE
    assert sql_value(con, phone_sql, raw) == MOBILE


@pytest.mark.parametrize(("raw", "e164"), OTHER_PHONES.items())
def test_foreign_and_landline_numbers(con, raw, e164):
    assert normalize_phone(raw) == e164
    assert sql_value(con, phone_sql, raw) == e164


@pytest.mark.parametrize("raw", [None, "", "   ", "n/a", "abc"])
def test_no_phone_gives_none(con, raw):
    assert normalize_phone(raw) is None
    assert sql_value(con, phone_sql, raw) is None


def test_an_international_prefix_is_not_mistaken_for_a_mobile(con):
    # "00" + "14155550123" would look like a Chinese mobile if the prefix were ignored.
    assert normalize_phone("0014155550123") == "+14155550123"
    assert sql_value(con, phone_sql, "0014155550123") == "+14155550123"


@pytest.mark.parametrize(("raw", "key"), COMPANY.items())
def test_company_names_lose_case_width_spaces_and_legal_suffixes(con, raw, key):
    assert normalize_company(raw) == key
    assert sql_value(con, company_sql, raw) == key


def test_different_companies_stay_different():
    assert normalize_company("深圳云立机械有限公司") != normalize_company("广州云立机械有限公司")
    assert normalize_company("Acme Widgets Inc.") != normalize_company("Acme Gadgets Inc.")
    # a name that is nothing but a suffix is kept rather than emptied
    assert normalize_company("有限公司") == "有限公司"


@pytest.mark.parametrize(("raw", "key"), NAMES.items())
def test_person_names(con, raw, key):
    assert normalize_person_name(raw) == key
    assert sql_value(con, person_name_sql, raw) == key


@pytest.mark.parametrize(("raw", "key"), EMAILS.items())
def test_emails(con, raw, key):
    assert normalize_email(raw) == key
    assert sql_value(con, email_sql, raw) == key


def test_sandbox_variant_writers_normalise_back():
    """The sandbox's own duplicate writers (phone, email, name, company) must all collapse."""
    from extractors.sandbox import names as N

    for phone in ["13812345678", "+65 12345678", "+852 12345678", "+44 1234567890", "+1 4155550123"]:
        assert {normalize_phone(N.phone_variant(phone, v)) for v in range(10)} == {normalize_phone(phone)}
    for company in ["深圳云立机械有限公司", "上海美信环保股份有限公司",
                    "BlueNova Digital Systems (Singapore) Pte. Ltd.", "Apex Terra Labs (Hong Kong) Co., Ltd.",
                    "Summit Labs (Hamburg) GmbH"]:
        assert {normalize_company(N.company_variant(company, v)) for v in range(12)} == {normalize_company(company)}
    for name in ["张三", "欧阳娜娜", "John Smith"]:
        assert {normalize_person_name(N.name_variant(name, v)) for v in range(6)} == {normalize_person_name(name)}
    assert {normalize_email(N.email_variant("li.na@foo.com.cn", v)) for v in range(8)} == {"li.na@foo.com.cn"}
