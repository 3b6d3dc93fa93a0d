{% test peer_median_has_enough_companies(model, column_name, companies_with) %}
{# Fails on every row whose peer median (column_name) is not null although `companies_with` of the
   group's companies_in_group are too few for one (macros/peer_groups.sql). #}
select {{ column_name }}, {{ companies_with }}, companies_in_group
from {{ model }}
where {{ column_name }} is not null
  and not {{ enough_companies_for_a_median(companies_with, 'companies_in_group') }}
{% endtest %}
