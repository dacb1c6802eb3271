-- CRM accounts (customer companies, `AccountObj`), latest version per id, quarantined ids excluded, with the canonical id from the
-- identity map. A key-incremental table (macros/identity.sql, staging_with_identity).

{{ sfa.staging_with_identity_config('crm_accounts', 'base_crm__accounts', 'account_id') }}

{{ sfa.staging_with_identity('crm_accounts', 'base_crm__accounts', 'account_id', 'customer_id', 'crm') }}
