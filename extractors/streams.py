"""The declarative stream table: every raw table of docs/source_contract.md as data.

Like dlt's rest_api source, a stream is a row here (source, endpoint, object or model,
primary key, cursor, tombstone rule, paging style), not a hand-written function; the three
connectors read these rows and `record_keys` turns one into the landing key functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from extractors.landing import RecordKeys

Source = Literal["crm", "marketing", "erp"]
# crm_query: /cgi/crm[/custom]/v2/data/query; crm_directory: user/department lists;
# hubspot: GET list with `after`; odoo: JSON-RPC search_read.
Kind = Literal["crm_query", "crm_directory", "hubspot", "odoo"]
Paging = Literal["id_cursor", "after_cursor", "offset", "none"]
# How cursor values sort: CRM epoch ms (numbers), HubSpot ISO-8601, Odoo "YYYY-MM-DD HH:MM:SS".
CursorType = Literal["epoch_ms", "iso", "odoo_datetime"]


@dataclass(frozen=True)
class Tombstone:
    """A record is a tombstone when ANY (field, values) pair matches."""

    any_of: tuple[tuple[str, tuple[object, ...]], ...] = ()

    def is_deleted(self, record: dict) -> bool:
        for name, values in self.any_of:
            value = record.get(name)
            if value is None:
                continue
            for v in values:
                # `0 == False` in Python: compare the type too, so 0 is not a tombstone.
                if value is v or (type(value) is type(v) and value == v):
                    return True
        return False


CRM_TOMBSTONE = Tombstone((("is_deleted", (True,)), ("life_status", ("invalid",))))
HUBSPOT_TOMBSTONE = Tombstone((("archived", (True,)),))
ODOO_INACTIVE = Tombstone((("active", (False,)),))
ODOO_CANCELLED = Tombstone((("state", ("cancel",)),))
NEVER = Tombstone()

CRM_COMMON_FIELDS = (
    "_id", "name", "owner", "created_by", "last_modified_by", "create_time",
    "last_modified_time", "is_deleted", "life_status", "version", "record_type", "lock_status",
    # Server fields every real record carries too (FXIAOKE_API.md).
    "object_describe_api_name", "data_own_department",
)  # fmt: skip
HUBSPOT_COMMON_FIELDS = ("id", "properties", "createdAt", "updatedAt", "archived")


@dataclass(frozen=True)
class Stream:
    table: str  # raw table name, also the stream name
    source: Source
    kind: Kind
    endpoint: str  # path under the source's base URL
    object_name: str | None  # Fxiaoke dataObjectApiName / Odoo model / None
    primary_key: str
    cursor_field: str | None  # None: full snapshot every run
    cursor_type: CursorType | None
    tombstone: Tombstone
    paging: Paging
    list_key: str | None = None  # where the records are in a directory answer
    domain: tuple = ()  # Odoo: extra search domain ANDed with the cursor filter
    fields: tuple[str, ...] = ()  # declared fields (contract); Odoo requests exactly these
    drift_root: str | None = None  # drift checks look inside this key (HubSpot `properties`)
    request: dict = field(default_factory=dict)  # fixed extra request body/params

    @property
    def incremental(self) -> bool:
        return self.cursor_field is not None


def _crm(table: str, api_name: str, extra: str, custom: bool = False) -> Stream:
    return Stream(
        table=table,
        source="crm",
        kind="crm_query",
        endpoint="/cgi/crm/custom/v2/data/query" if custom else "/cgi/crm/v2/data/query",
        object_name=api_name,
        primary_key="_id",
        cursor_field="last_modified_time",
        cursor_type="epoch_ms",
        tombstone=CRM_TOMBSTONE,
        paging="id_cursor",
        fields=CRM_COMMON_FIELDS + tuple(extra.split()),
    )


def _hubspot(table: str, path: str, props: str) -> Stream:
    return Stream(
        table=table,
        source="marketing",
        kind="hubspot",
        endpoint=path,
        object_name=None,
        primary_key="id",
        cursor_field="updatedAt",
        cursor_type="iso",
        tombstone=HUBSPOT_TOMBSTONE,
        paging="after_cursor",
        fields=tuple(props.split()),
        drift_root="properties",
    )


def _odoo(table: str, model: str, fields: str, tombstone: Tombstone, domain: tuple = ()) -> Stream:
    return Stream(
        table=table,
        source="erp",
        kind="odoo",
        endpoint="/jsonrpc",
        object_name=model,
        primary_key="id",
        cursor_field="write_date",
        cursor_type="odoo_datetime",
        tombstone=tombstone,
        paging="offset",
        domain=domain,
        fields=tuple(fields.split()),
    )


STREAMS: dict[str, Stream] = {
    s.table: s
    for s in (
        Stream(
            table="crm_departments",
            source="crm",
            kind="crm_directory",
            endpoint="/cgi/department/list",
            object_name=None,
            primary_key="id",
            cursor_field=None,
            cursor_type=None,
            tombstone=NEVER,
            paging="none",
            list_key="departments",
            fields=("id", "name", "parentId", "isStop", "order"),
        ),
        Stream(
            table="crm_users",
            source="crm",
            kind="crm_directory",
            endpoint="/cgi/user/list",
            object_name=None,
            primary_key="openUserId",
            cursor_field=None,
            cursor_type=None,
            tombstone=NEVER,
            paging="none",
            list_key="userList",
            request={"departmentId": 999999, "fetchChild": True},
            fields=tuple(
                "openUserId name nickName email mobile position departmentIds mainDepartmentId "
                "leaderId isStop createTime".split()
            ),
        ),
        _crm(
            "crm_accounts",
            "AccountObj",
            "account_no account_level account_source deal_status industry_level1 "
            "uniform_social_credit_code tel email address employee_count__c region__c "
            "is_strategic__c high_seas_id last_followed_time",
        ),
        _crm(
            "crm_contacts",
            "ContactObj",
            "account_id leads_id mobile tel email job_title contact_role__c stance__c",
        ),
        _crm(
            "crm_leads",
            "LeadsObj",
            "company mobile tel email job_title source marketing_event_id leads_pool_id "
            "biz_status leads_stage assigned_time assigner_id last_follower last_followed_time "
            "industry employee_count__c mql_time__c sql_time__c account_id contact_id "
            "new_opportunity_id transform_time back_reason close_reason",
        ),
        _crm(
            "crm_opportunities",
            "NewOpportunityObj",
            "account_id leads_id amount mc_currency close_date sales_stage sales_status "
            "probability forecast_category__c product_line__c loss_reason__c stg_changed_time "
            "last_followed_time",
        ),
        _crm(
            "crm_opportunity_stage_changes",
            "opportunity_stage_change__c",
            "new_opportunity_id from_stage to_stage changed_time amount close_date "
            "forecast_category__c",
            custom=True,
        ),
        _crm(
            "crm_activities",
            "ActiveRecordObj",
            "active_record_type active_record_content related_api_names related_object_data "
            "activity_time__c",
        ),
        _crm(
            "crm_quotas",
            "GoalValueObj",
            "goal_user_id fiscal_year january_value february_value march_value april_value "
            "may_value june_value july_value august_value september_value october_value "
            "november_value december_value annual_value",
        ),
        _crm(
            "crm_forecast_submissions",
            "forecast_submission__c",
            "period submitted_time commit_amount best_case_amount manager_adjusted_amount "
            "manager_id",
            custom=True,
        ),
        _hubspot(
            "mkt_campaigns",
            "/marketing/v3/campaigns",
            "name channel start_date end_date budget currency",
        ),
        _hubspot(
            "mkt_campaign_daily_metrics",
            "/marketing/v3/campaigns/metrics/daily",
            "campaign_id date spend currency impressions clicks",
        ),
        _hubspot(
            "mkt_form_submissions",
            "/marketing/v3/forms/submissions",
            "form_id campaign_id name email phone company job_title utm_source utm_medium "
            "utm_campaign submitted_at crm_lead_id",
        ),
        _hubspot(
            "mkt_engagement_events",
            "/events/v3/events",
            "event_type occurred_at campaign_id email crm_lead_id",
        ),
        _odoo(
            "erp_customers",
            "res.partner",
            "id name vat email phone street city country_id customer_rank credit_limit "
            "property_payment_term_id active create_date write_date",
            ODOO_INACTIVE,
            domain=(("customer_rank", ">", 0),),
        ),
        _odoo(
            "erp_products",
            "product.product",
            "id default_code name categ_id list_price currency_id active create_date write_date",
            ODOO_INACTIVE,
        ),
        _odoo(
            "erp_sales_orders",
            "sale.order",
            "id name partner_id date_order amount_untaxed amount_tax amount_total currency_id "
            "state user_id client_order_ref create_date write_date",
            ODOO_CANCELLED,
        ),
        _odoo(
            "erp_sales_order_lines",
            "sale.order.line",
            "id order_id product_id product_uom_qty price_unit price_subtotal currency_id "
            "create_date write_date",
            NEVER,
        ),
        _odoo(
            "erp_invoices",
            "account.move",
            "id name partner_id invoice_origin invoice_date invoice_date_due amount_total "
            "amount_residual payment_state currency_id state create_date write_date",
            ODOO_CANCELLED,
            domain=(("move_type", "=", "out_invoice"),),
        ),
        _odoo(
            "erp_payments",
            "account.payment",
            "id name partner_id amount date currency_id payment_type reconciled_invoice_ids "
            "state create_date write_date",
            ODOO_CANCELLED,
        ),
    )
}

SOURCES: tuple[Source, ...] = ("crm", "marketing", "erp")


def get_stream(name: str) -> Stream:
    try:
        return STREAMS[name]
    except KeyError:
        raise KeyError(f"unknown stream {name!r}; known: {', '.join(sorted(STREAMS))}") from None


def streams_of(source: str) -> list[Stream]:
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    return [s for s in STREAMS.values() if s.source == source]


def _getter(name: str | None) -> Callable[[dict], object]:
    if name is None:
        return lambda record: None
    return lambda record: record.get(name)


def record_keys(stream: Stream | str) -> RecordKeys:
    """Key, cursor and tombstone readers for landing.page_to_arrow."""
    s = get_stream(stream) if isinstance(stream, str) else stream
    return RecordKeys(
        record_id=_getter(s.primary_key),
        cursor=_getter(s.cursor_field),
        deleted=s.tombstone.is_deleted,
    )


def cursor_sort_key(stream: Stream) -> Callable[[str], object]:
    """Cursor texts compare as numbers for epoch ms, as text for the ISO-like formats."""
    if stream.cursor_type == "epoch_ms":
        return lambda text: int(float(text))
    return lambda text: text
