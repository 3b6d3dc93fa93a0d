{#
    dbt's hook for a test's `where` config, extended with two filters that keep a refresh's tests
    in proportion to what it changed, while a full build (`--full-refresh`) tests every row:
    - latest_build: on an incremental refresh, the rows the model's latest run wrote (its rebuilt
      window; every row when it was built whole). delete+insert on the unique key keeps older rows
      from colliding with them.
    - latest_load: every row of the keys loaded since the last build of the incremental marts
      (old rows of those keys too, so a duplicate of an older row is still caught); every row when
      a mart was never built. A failing test skips the marts downstream, so the last build stays
      before the bad row's load and the next refresh tests it again until it is fixed.
#}
{% macro get_where_subquery(relation) -%}
    {% set where = config.get('where') %}
    {% if where in ['latest_build', 'latest_load'] and (flags.FULL_REFRESH or not execute) %}
        {% set where = none %}
    {% elif where == 'latest_build' %}
        {% set where = 'built_at = (select max(built_at) from ' ~ relation ~ ')' %}
    {% elif where == 'latest_load' %}
        {% set last_build = last_build_of_incremental_marts() %}
        {% set where = none if last_build is none else
            '(symbol, "date") in (select symbol, "date" from ' ~ relation ~ ' where loaded_at > ' ~ last_build ~ ')' %}
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


{# When every incremental mart was last built (the oldest of their latest built_at), as SQL; none
   when one of them does not exist yet. #}
{% macro last_build_of_incremental_marts() -%}
    {% set latest = [] %}
    {% for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'incremental' %}
        {% set mart = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
        {% if mart is none %}
            {% do return(none) %}
        {% endif %}
        {% do latest.append("select coalesce(max(built_at), timestamp '-infinity') as built_at from " ~ mart) %}
    {% endfor %}
    {% do return(none if not latest else '(select min(built_at) from (' ~ latest | join(' union all ') ~ '))') %}
{%- endmacro %}
