-- ERP customers (Odoo `res.partner` with customer_rank > 0).

with

renamed as (

    select *
    from {{ ref('base_erp__customers') }}
    where {{ sfa.not_quarantined('erp_customers', 'erp_customer_id') }}

),

identity as (

    {{ sfa.identity_for('erp_customers') }}

),

final as (

    select
        renamed.*,
        coalesce(identity.canonical_id, 'erp:' || cast(renamed.erp_customer_id as {{ dbt.type_string() }})) as customer_id
    from renamed
    left join identity
        on cast(renamed.erp_customer_id as {{ dbt.type_string() }}) = identity.record_id

)

select * from final
