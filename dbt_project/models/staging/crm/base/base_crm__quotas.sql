-- Sales quotas per rep and fiscal year (`GoalValueObj`), monthly values in CNY. Unpivoted to months in `int_crm__quota_months`.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__quotas` view on top.

{{ config(materialized='incremental', unique_key='quota_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_quotas') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        _record_id as quota_id,
        {{ sfa.crm_user_ref('_record', 'goal_user_id') }} as user_id,
        {{ sfa.to_int(sfa.json_field('_record', 'fiscal_year')) }} as fiscal_year,
        {{ sfa.to_amount(sfa.json_field('_record', 'january_value')) }} as january_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'february_value')) }} as february_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'march_value')) }} as march_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'april_value')) }} as april_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'may_value')) }} as may_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'june_value')) }} as june_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'july_value')) }} as july_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'august_value')) }} as august_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'september_value')) }} as september_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'october_value')) }} as october_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'november_value')) }} as november_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'december_value')) }} as december_quota,
        {{ sfa.to_amount(sfa.json_field('_record', 'annual_value')) }} as annual_quota,
        {{ sfa.crm_common_columns() }}
    from source
    {%- endcall %}

)

select * from renamed
