{#- A primary key: never NULL and never repeated. One query instead of unique + not_null.

    `batch_column`: for a delete+insert incremental table (or a view that only filters one) whose
    column stamps every row a run writes with one value (`refreshed_at`, the transaction's start),
    only the rows of the newest batch are checked. Each run deletes every key it re-inserts, so a
    NULL or repeated key can only arise inside the batch just written; older batches were checked
    when they were written. A first build or `--full-refresh` is one batch: the whole table. At
    1,000,000 leads the test on stg_crm__leads after a 1% change drops from ~0.3 s to ~0.01 s. -#}
{% test primary_key(model, column_name, batch_column=none) %}

select {{ column_name }}, count(*) as occurrences
from {{ model }}
{%- if batch_column %}
where {{ batch_column }} = (select max(newest.{{ batch_column }}) from {{ model }} as newest)
{%- endif %}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1

{% endtest %}
