-- A view: a projection of staging contacts (a key-incremental table) with their account's customer
-- id; a table would rewrite every contact each run to gain nothing.
{{ config(materialized='view') }}

with

contacts as (

    select * from {{ ref('stg_crm__contacts') }}
    where not is_deleted

),

accounts as (

    select account_id, customer_id from {{ ref('stg_crm__accounts') }}
    where not is_deleted

),

final as (

    select
        contacts.contact_id,
        contacts.person_id,
        accounts.customer_id,
        contacts.account_id,
        contacts.contact_name,
        contacts.job_title,
        coalesce(contacts.contact_role, 'unknown') as contact_role,
        coalesce(contacts.stance, 'unknown') as stance,
        contacts.email,
        contacts.mobile,
        contacts.owner_id,
        contacts.refreshed_at
    from contacts
    left join accounts
        on contacts.account_id = accounts.account_id

)

select * from final
