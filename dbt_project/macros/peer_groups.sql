{#
    Peer comparisons: the peer median both peer marts use and the rule of when there is one, the
    group sizes it is measured against, and mart_peer_valuation's members and one-listing rule
    (mart_peer_valuation_daily chooses each company's listing per day itself, before the peer
    groups multiply its rows).
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


{#
    companies_in_group: the companies of each peer group in the universe, each once however many
    listings it has (Alibaba's BABA and 9988.HK are one company), whether or not it has a price or
    a multiple on a given day: the size a median's sample is measured against.
#}
{% macro peer_group_sizes() -%}
    select
        peer_group,
        count(distinct company_id) as companies_in_group
    from {{ ref('bridge_company_peer_group') }}
    group by peer_group
{%- endmacro %}


{# The one definition of a peer median: the median of the companies' values, nulls ignored. #}
{% macro peer_median(column) -%}
    median({{ column }})
{%- endmacro %}


{#
    A median is the group's only when enough of the group is in it: at least two companies with the
    multiple, and at least half of the group's companies (3 of 6 is enough; 2 of 6, 2 of 5 and 1 of
    1 are not). In integers, so that exactly half is never lost to rounding.
#}
{% macro enough_companies_for_a_median(companies_with, companies_in_group) -%}
    ({{ companies_with }} >= 2 and 2 * {{ companies_with }} >= {{ companies_in_group }})
{%- endmacro %}


{#
    A peer median as the marts publish it: `median` (a peer_median over the companies that have the
    multiple, `companies_with` of them) where enough_companies_for_a_median, else null, never a
    median of one or two. The premiums to peers divide by it, so they are null with it.
#}
{% macro median_of_enough_companies(median, companies_with, companies_in_group) -%}
    case when {{ enough_companies_for_a_median(companies_with, companies_in_group) }} then {{ median }} end
{%- endmacro %}
