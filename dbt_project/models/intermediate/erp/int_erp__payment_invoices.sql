-- One row per (payment, invoice it settles): `reconciled_invoice_ids` unnested with an index spine.

with

payments as (

    select * from {{ ref('stg_erp__payments') }}
    where not is_deleted

),

spine as (

    {{ dbt.generate_series(var('max_invoices_per_payment')) }}

),

final as (

    select
        payments.payment_id,
        {{ sfa.to_bigint(sfa.json_array_element('payments.reconciled_invoice_ids_json', '', 'spine.generated_number - 1')) }} as invoice_id
    from payments
    inner join spine
        on spine.generated_number <= payments.reconciled_invoice_count

)

select * from final
