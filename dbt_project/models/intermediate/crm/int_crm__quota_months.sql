-- Quotas unpivoted to one row per rep and month (CNY).

with

quotas as (

    select * from {{ ref('stg_crm__quotas') }}
    where not is_deleted

),

{% set months = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'] %}

unpivoted as (

    {% for month in months %}
    select
        user_id,
        fiscal_year,
        {{ loop.index }} as month_number,
        {{ month }}_quota as quota_amount
    from quotas
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        user_id,
        cast(
            cast(fiscal_year as {{ dbt.type_string() }}) || '-'
            || case when month_number < 10 then '0' else '' end
            || cast(month_number as {{ dbt.type_string() }}) || '-01'
            as date
        ) as period_month,
        sum(quota_amount) as quota_amount
    from unpivoted
    where user_id is not null and fiscal_year is not null
    group by 1, 2

)

select * from final
