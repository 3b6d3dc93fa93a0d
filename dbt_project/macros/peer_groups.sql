{#
    Peer comparisons: the peer median both peer marts use, and mart_peer_valuation's members and
    one-listing rule (mart_peer_valuation_daily chooses each company's listing per day itself,
    before the peer groups multiply its rows).
#}

{# Every listing of every company in a peer group. #}
{% macro peer_group_listings() -%}
    select
        groups.peer_group,
        listings.company_id,
        listings.symbol,
        listings.is_primary
    from {{ ref('bridge_company_peer_group') }} as groups
    inner join {{ ref('dim_listing') }} as listings on groups.company_id = listings.company_id
{%- endmacro %}


{#
    A company counts once in a median and a rank: keep one row per company in each `partition_by`
    (peer group, and the day where there is one), the listing `preferred_by` orders first, its
    primary listing on a tie (Alibaba is valued through 9988.HK while BABA has only adjusted
    closes). The rows need company_id, is_primary and symbol.
#}
{% macro one_listing_per_company(partition_by, preferred_by) -%}
    qualify row_number() over (
        partition by {{ partition_by }}, company_id order by {{ preferred_by }}, is_primary desc, symbol
    ) = 1
{%- endmacro %}


{# The one definition of a peer median: the median of the companies' values, nulls ignored. #}
{% macro peer_median(column) -%}
    median({{ column }})
{%- endmacro %}
