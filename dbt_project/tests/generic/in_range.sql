{% test in_range(model, column_name, min_value=none, max_value=none) %}
{# Fails on rows whose value lies outside [min_value, max_value]; nulls pass. A bound is SQL: a
   number, or another column of the row (companies_with_pe at most companies_in_group). #}
select {{ column_name }}
from {{ model }}
where {{ column_name }} is not null
  and (
      false
      {% if min_value is not none %} or {{ column_name }} < {{ min_value }} {% endif %}
      {% if max_value is not none %} or {{ column_name }} > {{ max_value }} {% endif %}
  )
{% endtest %}
