-- One row per canonical customer: CRM accounts and ERP customers that quality.identity_map puts in
-- one cluster share a `customer_id`. Attributes come from the earliest-created CRM account of the
-- cluster, falling back to the earliest ERP customer.
-- Key-incremental on customer_id (macros/incremental_keys.sql): a run rebuilds the customers of the
-- accounts and ERP customers staging rewrote since the last one (new version, tombstone, identity
-- move, back from quarantine: both are key-incremental and stamp each with a new refreshed_at),
-- the clusters whose member counts differ from what the table holds (a member left: quarantined or
-- moved to another cluster; an arrival is itself rewritten) and those whose owner's name, team or
-- region changed; the post-hook deletes customers with no current member left.

{{ config(
    materialized='incremental',
    unique_key='customer_id',
    incremental_strategy='delete+insert',
    post_hook="{{ sfa.delete_keys_not_in('customer_id', '(select customer_id from ' ~ ref('stg_crm__accounts') ~ ' where not is_deleted union select customer_id from ' ~ ref('stg_erp__customers') ~ ' where not is_deleted)') }}",
) }}

with

reps as (

    select * from {{ ref('int_crm__reps') }}

),

{%- if is_incremental() %}

crm_counts as (

    select customer_id, count(*) as members
    from {{ ref('stg_crm__accounts') }}
    where not is_deleted
    group by 1

),

erp_counts as (

    select customer_id, count(*) as members
    from {{ ref('stg_erp__customers') }}
    where not is_deleted
    group by 1

),

affected as (

    {{ sfa.keys_changed_since_built(ref('stg_crm__accounts'), 'customer_id', 'refreshed_at', include_unseen=false) }}

    union

    {{ sfa.keys_changed_since_built(ref('stg_erp__customers'), 'customer_id', 'refreshed_at', include_unseen=false) }}

    union

    select built.customer_id
    from {{ this }} as built
    left join crm_counts
        on built.customer_id = crm_counts.customer_id
    left join erp_counts
        on built.customer_id = erp_counts.customer_id
    left join reps
        on built.owner_id = reps.user_id
    where {{ sfa.differs('built.crm_account_count', 'coalesce(crm_counts.members, 0)') }}
        or {{ sfa.differs('built.erp_customer_count', 'coalesce(erp_counts.members, 0)') }}
        or {{ sfa.differs('built.owner_name', 'reps.user_name') }}
        or {{ sfa.differs('built.team_name', 'reps.team_name') }}
        or {{ sfa.differs('built.owner_region_name', 'reps.region_name') }}

),

{%- endif %}

accounts as (

    select * from {{ ref('stg_crm__accounts') }}
    where not is_deleted
    {%- if is_incremental() %}
        and {{ sfa.key_in(ref('stg_crm__accounts'), 'customer_id', 'select customer_id from affected') }}
    {%- endif %}

),

erp_customers as (

    select * from {{ ref('stg_erp__customers') }}
    where not is_deleted
    {%- if is_incremental() %}
        and {{ sfa.key_in(ref('stg_erp__customers'), 'customer_id', 'select customer_id from affected') }}
    {%- endif %}

),

ranked_accounts as (

    select
        accounts.*,
        row_number() over (partition by customer_id order by created_at, account_id) as account_rank,
        count(*) over (partition by customer_id) as crm_account_count
    from accounts

),

ranked_erp as (

    select
        erp_customers.*,
        row_number() over (partition by customer_id order by created_at, erp_customer_id) as erp_rank,
        count(*) over (partition by customer_id) as erp_customer_count,
        sum(credit_limit) over (partition by customer_id) as total_credit_limit
    from erp_customers

),

customer_ids as (

    select customer_id from accounts
    union
    select customer_id from erp_customers

),

final as (

    select
        customer_ids.customer_id,
        coalesce(ranked_accounts.account_name, ranked_erp.customer_name) as customer_name,
        ranked_accounts.account_id as primary_account_id,
        ranked_erp.erp_customer_id as primary_erp_customer_id,
        coalesce(ranked_accounts.crm_account_count, 0) as crm_account_count,
        coalesce(ranked_erp.erp_customer_count, 0) as erp_customer_count,
        coalesce(ranked_accounts.tax_id, ranked_erp.tax_id) as tax_id,
        ranked_accounts.owner_id,
        reps.user_name as owner_name,
        reps.team_name,
        reps.region_name as owner_region_name,
        ranked_accounts.industry,
        ranked_accounts.employee_count,
        ranked_accounts.region,
        coalesce(ranked_accounts.is_strategic, false) as is_strategic,
        ranked_accounts.account_level,
        ranked_erp.city,
        ranked_erp.country_name,
        ranked_erp.total_credit_limit as credit_limit_cny,
        ranked_accounts.created_at as crm_created_at,
        ranked_erp.created_at as erp_created_at,
        {{ sfa.refreshed_at() }} as refreshed_at
    from customer_ids
    left join ranked_accounts
        on customer_ids.customer_id = ranked_accounts.customer_id
        and ranked_accounts.account_rank = 1
    left join ranked_erp
        on customer_ids.customer_id = ranked_erp.customer_id
        and ranked_erp.erp_rank = 1
    left join reps
        on ranked_accounts.owner_id = reps.user_id

)

select * from final
