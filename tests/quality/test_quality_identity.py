"""Identity map over hand-made leads, accounts and ERP customers."""

from __future__ import annotations

from quality.identity import build_identity_map

T0 = 1_760_000_000_000


def lead(i: str, mtime: int = T0, **fields) -> dict:
    return {"_id": i, "create_time": T0, "last_modified_time": mtime, "is_deleted": False, "source": "ads", **fields}


def canonical(con, entity: str) -> dict[str, str]:
    return dict(con.execute(
        "select record_id, canonical_id from quality.identity_map where entity = ?", [entity]).fetchall())


def test_leads_cluster_on_normalised_email_and_phone(warehouse, lander):
    lander("crm_leads", [
        lead("l1", name="张三", company="深圳云立机械有限公司", email="zhang.san@yunli.cn", mobile="13812345678"),
        lead("l2", T0 + 5, name="张 三", company="深圳云立机械股份有限公司", email=" ZHANG.SAN@YUNLI.CN "),
        lead("l3", name="张三", mobile="+86 138-1234-5678"),
        lead("l4", name="李四", company="深圳云立机械有限公司", email="li.si@yunli.cn", mobile="13912345678"),
        lead("l5", name="John Smith", company="BlueNova (Singapore) Pte. Ltd.", tel="+65 1234 5678"),
        lead("l6", name="JOHN  SMITH", company="BLUENOVA (SINGAPORE) CO., LTD.", tel="0065-12345678"),
    ])
    summary = build_identity_map(warehouse)
    ids = canonical(warehouse, "crm_leads")
    assert ids["l1"] == ids["l2"] == ids["l3"] == "crm:l2"  # the most recently modified survives
    assert ids["l4"] == "crm:l4"
    assert ids["l5"] == ids["l6"] != ids["l1"]
    assert summary["lead_records"] == 6 and summary["lead_clusters"] == 3


def test_name_and_company_only_attach_records_without_email_or_phone(warehouse, lander):
    lander("crm_leads", [
        # two different people with one name at one company: different emails keep them apart
        lead("a", name="王伟", company="上海美信环保有限公司", email="wang.wei@meixin.cn"),
        lead("b", name="王伟", company="上海美信环保公司", email="wangwei2@meixin.cn"),
        # a lead with no email or phone joins the one cluster its name + company points at
        lead("c", name="李娜", company="广州华达科技有限公司", email="li.na@huada.cn"),
        lead("d", name="李 娜", company="广州华达科技 Co., Ltd."),
        # ...but not when name + company is ambiguous (two clusters)
        lead("e", name="王伟", company="上海美信环保股份有限公司"),
        # two contactless leads with one name + company are taken as one person
        lead("f", name="赵敏", company="成都蓝天软件有限公司"),
        lead("g", name="赵敏", company="成都蓝天软件公司"),
    ])
    build_identity_map(warehouse)
    ids = canonical(warehouse, "crm_leads")
    assert ids["a"] != ids["b"]
    assert ids["c"] == ids["d"]
    assert ids["e"] not in {ids["a"], ids["b"]}
    assert ids["f"] == ids["g"]


def test_accounts_and_erp_customers_share_one_customer_id(warehouse, lander):
    acc = {"create_time": T0, "last_modified_time": T0, "is_deleted": False, "owner": ["u1"]}
    lander("crm_accounts", [
        {"_id": "acc1", "name": "深圳云立机械有限公司", "uniform_social_credit_code": "91440300MA5F00000X", **acc},
        {"_id": "acc2", "name": "BlueNova Digital (Singapore) Pte. Ltd.", **acc},
        {"_id": "acc3", "name": "成都蓝天软件有限公司", "uniform_social_credit_code": "91510100MA6C00000Y", **acc},
    ])
    wd = "2026-01-01 00:00:00"
    lander("erp_customers", [
        # by tax id, whatever the name says
        {"id": 1, "name": "云立机械(深圳)", "vat": "91440300MA5F00000X", "active": True, "write_date": wd},
        {"id": 2, "name": "深圳云立机械股份有限公司", "vat": "91440300MA5F00000X", "active": True, "write_date": wd},
        # no vat: by normalised name
        {"id": 3, "name": "ＢＬＵＥＮＯＶＡ　ＤＩＧＩＴＡＬ　（ＳＩＮＧＡＰＯＲＥ）　ＣＯ．，　ＬＴＤ．", "vat": False,
         "active": True, "write_date": wd},
        # a tax id of its own beats a matching name: another legal entity
        {"id": 4, "name": "成都蓝天软件公司", "vat": "91510100MA6C99999Z", "active": True, "write_date": wd},
        {"id": 5, "name": "Nobody Ltd", "vat": False, "active": True, "write_date": wd},
    ])
    build_identity_map(warehouse)
    accounts, customers = canonical(warehouse, "crm_accounts"), canonical(warehouse, "erp_customers")
    assert accounts == {"acc1": "crm:acc1", "acc2": "crm:acc2", "acc3": "crm:acc3"}
    assert customers == {"1": "crm:acc1", "2": "crm:acc1", "3": "crm:acc2", "4": "erp:4", "5": "erp:5"}
    sources = dict(warehouse.execute(
        "select record_id, source from quality.identity_map where entity = 'erp_customers'").fetchall())
    assert set(sources.values()) == {"erp"}


def test_rebuilding_replaces_the_map(warehouse, lander):
    lander("crm_leads", [lead("l1", name="A", email="a@x.cn"), lead("l2", name="B", email="A@X.CN")])
    build_identity_map(warehouse)
    build_identity_map(warehouse)
    rows = warehouse.execute("select count(*), count(distinct canonical_id) from quality.identity_map").fetchone()
    assert rows == (2, 1)
