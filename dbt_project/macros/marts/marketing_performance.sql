{#- Cost and return measures over summed spend and outcomes (shared by campaign and channel marts). -#}
{% macro marketing_performance_measures() -%}
        cast(spend_cny as {{ sfa.type_amount() }}) as spend_cny,
        impressions,
        clicks,
        leads,
        mql,
        sql,
        opportunities,
        won_deals,
        cast(won_revenue_cny as {{ sfa.type_amount() }}) as won_revenue_cny,
        {{ sfa.ratio('clicks', 'impressions', 4) }} as click_through_rate,
        {{ sfa.divide_amount('spend_cny', 'leads') }} as cost_per_lead_cny,
        {{ sfa.divide_amount('spend_cny', 'mql') }} as cost_per_qualified_lead_cny,
        {{ sfa.divide_amount('spend_cny', 'opportunities') }} as cost_per_opportunity_cny,
        {{ sfa.ratio('won_revenue_cny - spend_cny', 'spend_cny', 4) }} as roi
{%- endmacro %}
