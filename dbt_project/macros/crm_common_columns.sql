{#-
    The fields every Fxiaoke object carries (owner and creator as the first user of their lists,
    life status, created/modified times in the business time zone) plus the landing's tombstone
    and extraction time: the tail of each CRM base staging model's select list.
-#}
{% macro crm_common_columns() -%}
{{ sfa.crm_user_ref('_record', 'owner') }} as owner_id,
        {{ sfa.crm_user_ref('_record', 'created_by') }} as created_by_id,
        {{ sfa.text_field('_record', 'life_status') }} as life_status,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'create_time')) }} as created_at,
        {{ sfa.epoch_ms_to_local(sfa.json_field('_record', 'last_modified_time')) }} as modified_at,
        _deleted as is_deleted,
        _extracted_at as extracted_at
{%- endmacro %}
