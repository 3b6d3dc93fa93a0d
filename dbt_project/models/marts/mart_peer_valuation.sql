-- Each listing's valuation beside its peer groups' medians, all at one as-of date: the latest
-- trading day in the warehouse (or var peer_as_of_date). Each listing brings its latest known
-- multiples on or before that date, from at most `peer_max_staleness_days` before it (older: null);
-- valuation_date says which day they are from. A company counts once in a median and a rank,
-- through the listing with the most recent multiples (its primary listing on a tie): Alibaba is
-- valued through 9988.HK when BABA has only adjusted closes. A median over fewer than two
-- companies, or fewer than half of the group's companies_in_group, is null (so are the premiums).

with

-- not materialized: read three times, the table's own scans are cheaper than a copy of all its
-- columns (at 5,000 listings x 20 years 2.2 -> 1.0 s and half the memory)
valuation as not materialized (

    select * from {{ ref('fct_valuation_daily') }}

),

as_of as (

    -- one row: the date set, or the latest trading day
    {% if var('peer_as_of_date', none) %}
    select cast('{{ var("peer_as_of_date") }}' as date) as as_of_date
    {% else %}
    select max(date) as as_of_date from valuation
    {% endif %}

),

latest_valued as (

    select valuation.*, as_of.as_of_date
    from valuation
    cross join as_of
    where valuation.date <= as_of.as_of_date
      and valuation.date > as_of.as_of_date - {{ var('peer_max_staleness_days') }}
      and (
          valuation.pe_ttm is not null or valuation.pe_ttm_adjusted is not null or valuation.pe_forward is not null
          or valuation.ps_ttm is not null or valuation.ev_ebitda_ttm is not null
      )
    qualify row_number() over (partition by valuation.symbol order by valuation.date desc) = 1

),

all_currency_caps as (

    -- each listing's latest day up to its valuation_date with its market cap known in USD, HKD and
    -- CNY: an FX series that has ended leaves the three at their last common day, never one null
    select
        valuation.symbol,
        max(valuation.date) as all_currencies_date,
        arg_max(valuation.market_cap_usd, valuation.date) as all_currencies_market_cap_usd,
        arg_max(valuation.market_cap_hkd, valuation.date) as all_currencies_market_cap_hkd,
        arg_max(valuation.market_cap_cny, valuation.date) as all_currencies_market_cap_cny
    from valuation
    inner join latest_valued
        on valuation.symbol = latest_valued.symbol
        and valuation.date <= latest_valued.date
    where valuation.market_cap_usd is not null
      and valuation.market_cap_hkd is not null
      and valuation.market_cap_cny is not null
    group by valuation.symbol

),

members as (

    {{ peer_group_listings() }}

),

member_rows as (

    select
        members.peer_group,
        members.company_id,
        members.symbol,
        members.is_primary,
        as_of.as_of_date,
        latest_valued.date as valuation_date,
        latest_valued.market_cap_usd,
        latest_valued.pe_ttm,
        latest_valued.pe_ttm_adjusted,
        latest_valued.adjusted_earnings_basis,
        latest_valued.pe_forward,
        latest_valued.forward_eps_snapshot_date,
        latest_valued.ps_ttm,
        latest_valued.ev_ebitda_ttm,
        latest_valued.fundamentals_period_end,
        all_currency_caps.* exclude (symbol)
    from members
    cross join as_of
    left join latest_valued on members.symbol = latest_valued.symbol
    left join all_currency_caps on members.symbol = all_currency_caps.symbol

),

company_rows as (

    -- the listing with the most recent multiples
    select *
    from member_rows
    {{ one_listing_per_company('peer_group', 'valuation_date desc nulls last') }}

),

group_sizes as (

    {{ peer_group_sizes() }}

),

peer_samples as (

    -- each multiple's median over the companies that have it, and how many they are
    select
        peer_group,
        {{ peer_median('pe_ttm') }} as median_pe_ttm_of_those_with_one,
        {{ peer_median('pe_ttm_adjusted') }} as median_pe_ttm_adjusted_of_those_with_one,
        {{ peer_median('pe_forward') }} as median_pe_forward_of_those_with_one,
        {{ peer_median('ps_ttm') }} as median_ps_ttm_of_those_with_one,
        {{ peer_median('ev_ebitda_ttm') }} as median_ev_ebitda_ttm_of_those_with_one,
        count(pe_ttm) as companies_with_pe,
        count(pe_ttm_adjusted) as companies_with_pe_adjusted,
        count(pe_forward) as companies_with_pe_forward,
        count(ps_ttm) as companies_with_ps,
        count(ev_ebitda_ttm) as companies_with_ev_ebitda
    from company_rows
    group by peer_group

),

peer_medians as (

    -- a median only over enough of the group (two companies and half of it at least), else null
    select
        peer_samples.peer_group,
        group_sizes.companies_in_group,
        peer_samples.companies_with_pe,
        peer_samples.companies_with_pe_adjusted,
        peer_samples.companies_with_pe_forward,
        peer_samples.companies_with_ps,
        peer_samples.companies_with_ev_ebitda,
        {{ median_of_enough_companies('peer_samples.median_pe_ttm_of_those_with_one',
            'peer_samples.companies_with_pe', 'group_sizes.companies_in_group') }} as peer_median_pe_ttm,
        {{ median_of_enough_companies('peer_samples.median_pe_ttm_adjusted_of_those_with_one',
            'peer_samples.companies_with_pe_adjusted', 'group_sizes.companies_in_group') }} as peer_median_pe_ttm_adjusted,
        {{ median_of_enough_companies('peer_samples.median_pe_forward_of_those_with_one',
            'peer_samples.companies_with_pe_forward', 'group_sizes.companies_in_group') }} as peer_median_pe_forward,
        {{ median_of_enough_companies('peer_samples.median_ps_ttm_of_those_with_one',
            'peer_samples.companies_with_ps', 'group_sizes.companies_in_group') }} as peer_median_ps_ttm,
        {{ median_of_enough_companies('peer_samples.median_ev_ebitda_ttm_of_those_with_one',
            'peer_samples.companies_with_ev_ebitda', 'group_sizes.companies_in_group') }} as peer_median_ev_ebitda_ttm
    from peer_samples
    inner join group_sizes on peer_samples.peer_group = group_sizes.peer_group

),

company_ranks as (

    select
        peer_group,
        company_id,
        symbol as company_symbol,
        rank() over (partition by peer_group order by market_cap_usd desc nulls last) as rank_in_group
    from company_rows

),

final as (

    select
        member_rows.symbol,
        member_rows.company_id,
        member_rows.peer_group,
        member_rows.as_of_date,
        member_rows.valuation_date,
        member_rows.market_cap_usd,
        company_ranks.rank_in_group,
        member_rows.symbol = company_ranks.company_symbol as represents_company,
        peer_medians.companies_in_group,
        peer_medians.companies_with_pe,
        peer_medians.companies_with_pe_adjusted,
        peer_medians.companies_with_pe_forward,
        peer_medians.companies_with_ps,
        peer_medians.companies_with_ev_ebitda,
        member_rows.pe_ttm,
        peer_medians.peer_median_pe_ttm,
        member_rows.pe_ttm / peer_medians.peer_median_pe_ttm - 1 as pe_premium_to_peers,
        -- each earnings basis against its own median, never across bases
        member_rows.pe_ttm_adjusted,
        member_rows.adjusted_earnings_basis,
        peer_medians.peer_median_pe_ttm_adjusted,
        member_rows.pe_ttm_adjusted / peer_medians.peer_median_pe_ttm_adjusted - 1 as pe_adjusted_premium_to_peers,
        member_rows.pe_forward,
        member_rows.forward_eps_snapshot_date,
        peer_medians.peer_median_pe_forward,
        member_rows.pe_forward / peer_medians.peer_median_pe_forward - 1 as pe_forward_premium_to_peers,
        member_rows.ps_ttm,
        peer_medians.peer_median_ps_ttm,
        member_rows.ps_ttm / peer_medians.peer_median_ps_ttm - 1 as ps_premium_to_peers,
        member_rows.ev_ebitda_ttm,
        peer_medians.peer_median_ev_ebitda_ttm,
        member_rows.ev_ebitda_ttm / peer_medians.peer_median_ev_ebitda_ttm - 1 as ev_ebitda_premium_to_peers,
        member_rows.fundamentals_period_end,
        member_rows.all_currencies_date,
        member_rows.all_currencies_market_cap_usd,
        member_rows.all_currencies_market_cap_hkd,
        member_rows.all_currencies_market_cap_cny
    from member_rows
    inner join peer_medians on member_rows.peer_group = peer_medians.peer_group
    inner join company_ranks
        on member_rows.peer_group = company_ranks.peer_group
        and member_rows.company_id = company_ranks.company_id

)

select * from final
