-- CRM departments: the company (id 999999), regions below it and sales teams below the regions. Full snapshot each run.
-- Base table: the latest version per id parsed once and kept incrementally (macros/raw_current.sql);
-- quarantine and identity are applied by the `stg_crm__departments` view on top.

{{ config(materialized='incremental', unique_key='department_id', incremental_strategy='delete+insert') }}

with

source as (

    {{ sfa.raw_latest('crm_departments') }}

),

renamed as (

    {% call sfa.json_parsed_once('source', '_record') -%}
    select
        cast(_record_id as {{ dbt.type_bigint() }}) as department_id,
        {{ sfa.text_field('_record', 'name') }} as department_name,
        {{ sfa.to_bigint(sfa.json_field('_record', 'parentId')) }} as parent_department_id,
        {{ sfa.to_boolean(sfa.json_field('_record', 'isStop')) }} as is_stopped,
        {{ sfa.to_int(sfa.json_field('_record', 'order')) }} as sort_order,
        _deleted as is_deleted,
        _extracted_at as extracted_at
    from source
    {%- endcall %}

)

select * from renamed
