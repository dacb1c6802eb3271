{#- A primary key: never NULL and never repeated. One query instead of unique + not_null. -#}
{% test primary_key(model, column_name) %}

select {{ column_name }}, count(*) as occurrences
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1

{% endtest %}
