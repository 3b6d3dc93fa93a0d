{#
    The incremental marts (fct_valuation_daily, mart_relative_performance, mart_peer_valuation_daily)
    share one way to be incremental, written here once.

    incremental_mart: the config. Each run deletes and re-inserts the rebuilt keys; a key that left
    the universe (its `retired_column` value no longer in `kept_in`) leaves the mart after the run,
    as it would on a full refresh (its raw history stays).

    rebuild_from: per symbol, the first date to rebuild - every date on a full build; on an
    incremental one the earliest date any input changed since the last build. Common to every
    listing mart: a symbol never built, or whose listing configuration changed, from its first
    day; the last `valuation_rebuild_lookback_days` days of every symbol, so late corrections land
    even when nothing flags them. The model adds its own changed inputs in the call block, each a
    `select symbol, changed_from` that may compare `loaded_at` with {{ last_build_at() }}; the
    macro puts `union all` before it. The model must also ref stg_universe_listings outside the
    incremental branch (a `-- depends_on:` comment will do): dbt parses as a full build.
#}

{% macro incremental_mart(unique_key, retired_column, kept_in) -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        post_hook="delete from {{ this }} where " ~ retired_column ~ " not in (select "
            ~ retired_column ~ " from {{ ref('" ~ kept_in ~ "') }})",
    ) }}
{%- endmacro %}


{#
    columns_changed: the stored table lacks a column the model declares (its YAML, which the
    contract enforces). dbt then appends the column (on_schema_change), and rebuild_from rebuilds
    every row, so that the table equals a full build instead of holding nulls in the old rows.
#}
{% macro columns_changed() -%}
    {% if not execute %}{% do return(false) %}{% endif %}
    {% set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list %}
    {% set declared = model.columns.keys() | map('lower') | list %}
    {% do return(declared | reject('in', stored) | list | length > 0) %}
{%- endmacro %}


{% macro last_build_at() -%}
    (select max(built_at) from {{ this }})
{%- endmacro %}


{% macro rebuild_from(listings, date_column) -%}
    {% if is_incremental() %}
    select symbol, min(changed_from) as rebuild_from
    from (
        -- symbols never built, or whose listing configuration changed: their whole history; every
        -- symbol's when the stored table's columns are not the model's (a new version added one)
        select symbol, date '1900-01-01' as changed_from
        from {{ listings }}
        where symbol not in (select distinct symbol from {{ this }}){{ ' or true' if columns_changed() }}
        union all
        select symbol, date '1900-01-01'
        from {{ ref('stg_universe_listings') }}
        where loaded_at > {{ last_build_at() }}
        union all
        -- the overlap window
        select symbol, max({{ date_column }}) - {{ var('valuation_rebuild_lookback_days') }}
        from {{ this }}
        group by symbol
        union all
        {{ caller() }}
    ) as changes
    group by symbol
    {% else %}
    select symbol, date '1900-01-01' as rebuild_from
    from {{ listings }}
    {% endif %}
{%- endmacro %}
