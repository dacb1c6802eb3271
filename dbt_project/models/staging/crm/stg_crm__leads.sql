-- CRM leads (`LeadsObj`), latest version per id, quarantined ids excluded, with the canonical id from the
-- identity map. A key-incremental table (macros/identity.sql, staging_with_identity).

{{ sfa.staging_with_identity_config('crm_leads', 'base_crm__leads', 'lead_id') }}

{{ sfa.staging_with_identity('crm_leads', 'base_crm__leads', 'lead_id', 'person_id', 'crm') }}
