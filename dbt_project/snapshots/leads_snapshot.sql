{#- Description and columns: snapshots.yml. Reads only the leads that can have changed since the
    last run (macros/snapshot_source.sql). The config is here rather than in the YAML: when a macro
    the file calls changes, dbt's partial parsing re-parses this file and, with the config only in
    the YAML, failed with "Snapshots must be configured with a 'strategy' and 'unique_key'" (dbt
    1.11, seen on a project upgraded in place). -#}
{% snapshot leads_snapshot %}
{{ config(unique_key='lead_id', strategy='check', check_cols=['biz_status', 'leads_stage', 'owner_id', 'leads_pool_id', 'mql_at', 'sql_at', 'opportunity_id', 'is_deleted']) }}
{{ sfa.snapshot_changed_rows(ref('stg_crm__leads'), 'lead_id') }}
{% endsnapshot %}
