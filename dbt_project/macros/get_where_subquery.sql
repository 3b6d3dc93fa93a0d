{#
    dbt's hook for a test's `where` config, extended with two filters that keep a daily build's
    tests in proportion to the new data instead of the whole history:
    - latest_build: the rows the model's latest run wrote (every row after a full build; the
      rebuilt window after an incremental one). delete+insert on the unique key keeps older rows
      from colliding with them.
    - latest_load: every row of the keys the latest raw load touched (old rows of those keys too,
      so a duplicate of an older row is still caught).
#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where') %}
    {% if where == 'latest_build' %}
        {% set where = 'built_at = (select max(built_at) from ' ~ relation ~ ')' %}
    {% elif where == 'latest_load' %}
        {% set where = '(symbol, date) in (select symbol, date from ' ~ relation
            ~ ' where loaded_at = (select max(loaded_at) from ' ~ relation ~ '))' %}
    {% endif %}
    {% if where %}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}
