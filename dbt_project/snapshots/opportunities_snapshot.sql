{#- Description and columns: snapshots.yml. Reads only the opportunities that can have changed since the
    last run (macros/snapshot_source.sql). The config is here rather than in the YAML: when a macro
    the file calls changes, dbt's partial parsing re-parses this file and, with the config only in
    the YAML, failed with "Snapshots must be configured with a 'strategy' and 'unique_key'" (dbt
    1.11, seen on a project upgraded in place). -#}
{% snapshot opportunities_snapshot %}
{{ config(unique_key='opportunity_id', strategy='check', check_cols=['sales_stage', 'sales_status', 'amount', 'currency', 'close_date', 'probability', 'forecast_category', 'owner_id', 'is_deleted']) }}
{{ sfa.snapshot_changed_rows(ref('stg_crm__opportunities'), 'opportunity_id') }}
{% endsnapshot %}
