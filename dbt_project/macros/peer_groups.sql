{#
    The one definition of a peer median: the median of the companies' values, nulls ignored.
    Used by mart_peer_valuation (one as-of date) and mart_peer_valuation_daily (every day).
#}
{% macro peer_median(column) -%}
    median({{ column }})
{%- endmacro %}
