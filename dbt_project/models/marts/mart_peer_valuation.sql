-- The latest valuation of each listing beside its peer groups' medians. Each company counts once
-- in a median and a rank (through its primary listing); a secondary listing shows its company's
-- rank. as_of_date is each listing's own latest trading day.

with

latest as (

    select *
    from {{ ref('fct_valuation_daily') }}
    qualify row_number() over (partition by symbol order by date desc) = 1

),

members as (

    select
        groups.peer_group,
        listings.company_id,
        listings.symbol,
        listings.is_primary
    from {{ ref('bridge_company_peer_group') }} as groups
    inner join {{ ref('dim_listing') }} as listings on groups.company_id = listings.company_id

),

member_rows as (

    select members.peer_group, members.is_primary, latest.*
    from members
    inner join latest on members.symbol = latest.symbol

),

peer_medians as (

    select
        peer_group,
        percentile_cont(0.5) within group (order by pe_ttm) as peer_median_pe_ttm,
        percentile_cont(0.5) within group (order by ps_ttm) as peer_median_ps_ttm,
        percentile_cont(0.5) within group (order by ev_ebitda_ttm) as peer_median_ev_ebitda_ttm,
        count(*) as companies_in_group
    from member_rows
    where is_primary
    group by peer_group

),

company_ranks as (

    select
        peer_group,
        company_id,
        rank() over (partition by peer_group order by market_cap_usd desc nulls last) as rank_in_group
    from member_rows
    where is_primary

),

final as (

    select
        member_rows.symbol,
        member_rows.company_id,
        member_rows.peer_group,
        member_rows.date as as_of_date,
        member_rows.market_cap_usd,
        company_ranks.rank_in_group,
        peer_medians.companies_in_group,
        member_rows.pe_ttm,
        peer_medians.peer_median_pe_ttm,
        member_rows.pe_ttm / peer_medians.peer_median_pe_ttm - 1 as pe_premium_to_peers,
        member_rows.ps_ttm,
        peer_medians.peer_median_ps_ttm,
        member_rows.ps_ttm / peer_medians.peer_median_ps_ttm - 1 as ps_premium_to_peers,
        member_rows.ev_ebitda_ttm,
        peer_medians.peer_median_ev_ebitda_ttm,
        member_rows.ev_ebitda_ttm / peer_medians.peer_median_ev_ebitda_ttm - 1 as ev_ebitda_premium_to_peers,
        member_rows.fundamentals_period_end
    from member_rows
    inner join peer_medians on member_rows.peer_group = peer_medians.peer_group
    inner join company_ranks
        on member_rows.peer_group = company_ranks.peer_group
        and member_rows.company_id = company_ranks.company_id

)

select * from final
