-- ERP customers (Odoo `res.partner` with customer_rank > 0), latest version per id, quarantined ids excluded, with the canonical id from the
-- identity map. A key-incremental table (macros/identity.sql, staging_with_identity).

{{ sfa.staging_with_identity_config('erp_customers', 'base_erp__customers', 'erp_customer_id') }}

{{ sfa.staging_with_identity('erp_customers', 'base_erp__customers', 'erp_customer_id', 'customer_id', 'erp') }}
