{#- Config, description and columns: snapshots.yml. Reads only the opportunities that can have
    changed since the last run (macros/snapshot_source.sql). -#}
{% snapshot opportunities_snapshot %}
{{ sfa.snapshot_changed_rows(ref('stg_crm__opportunities'), 'opportunity_id') }}
{% endsnapshot %}
