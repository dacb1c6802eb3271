{#- Config, description and columns: snapshots.yml. Reads only the leads that can have changed
    since the last run (macros/snapshot_source.sql). -#}
{% snapshot leads_snapshot %}
{{ sfa.snapshot_changed_rows(ref('stg_crm__leads'), 'lead_id') }}
{% endsnapshot %}
