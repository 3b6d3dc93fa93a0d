{{ incremental_mart(unique_key=['peer_group', 'date'], retired_column='peer_group', kept_in='bridge_company_peer_group') }}

-- depends_on: {{ ref('stg_universe_peer_groups') }}
-- depends_on: {{ ref('stg_universe_listings') }}

-- Each peer group's median valuation on every trading day: the history behind
-- mart_peer_valuation's latest medians, small enough for a chart to read in milliseconds (the
-- daily fact table has a row per listing and day). Each company counts once a day; a median over
-- fewer than two companies, or fewer than half of the group's companies_in_group, is null.
-- Incremental: only the dates fct_valuation_daily rebuilt since this model's last run (every date
-- when peer groups or primary listings change, as companies_in_group is on every date, or when the
-- stored table lacks one of the model's columns).

with

valuation as (

    select * from {{ ref('fct_valuation_daily') }}
    {% if is_incremental() %}
    where date >= coalesce(
        -- the stored table lacks a column the model declares (a new version added one, which
        -- on_schema_change appends empty): every date, as a full build would write them
        {% if columns_changed() %}date '1900-01-01',{% endif %}
        -- a changed peer group or primary listing: every date
        (
            select date '1900-01-01'
            from (
                select loaded_at from {{ ref('stg_universe_peer_groups') }}
                union all
                select loaded_at from {{ ref('stg_universe_listings') }}
            ) as configuration
            having max(loaded_at) > {{ last_build_at() }}
        ),
        (
            select min(date) from {{ ref('fct_valuation_daily') }}
            where built_at > {{ last_build_at() }}
        )
    )
    {% endif %}

),

listings as (

    select
        symbol,
        company_id,
        is_primary,
        count(*) over (partition by company_id) as company_listings
    from {{ ref('dim_listing') }}

),

listing_days as (

    select
        listings.company_id,
        listings.symbol,
        listings.is_primary,
        listings.company_listings,
        valuation.date,
        valuation.pe_ttm,
        valuation.pe_ttm_adjusted,
        valuation.pe_forward,
        valuation.ps_ttm,
        valuation.ev_ebitda_ttm
    from valuation
    inner join listings on valuation.symbol = listings.symbol

),

company_days as (

    -- One row per company and day: its primary listing, unless only another listing has a P/E
    -- that day (Alibaba through 9988.HK while BABA has only adjusted closes). The choice does not
    -- depend on the peer group, so it is made once per company and day, before the groups
    -- multiply the rows. A company with one listing has nothing to choose: its rows pass as they
    -- are (most rows); the others keep one struct per company and day (arg_min spills to disk).
    select
        company_id,
        date,
        {'pe_ttm': pe_ttm, 'pe_ttm_adjusted': pe_ttm_adjusted, 'pe_forward': pe_forward, 'ps_ttm': ps_ttm, 'ev_ebitda_ttm': ev_ebitda_ttm} as chosen
    from listing_days
    where company_listings = 1

    union all

    select
        company_id,
        date,
        arg_min(
            {'pe_ttm': pe_ttm, 'pe_ttm_adjusted': pe_ttm_adjusted, 'pe_forward': pe_forward, 'ps_ttm': ps_ttm, 'ev_ebitda_ttm': ev_ebitda_ttm},
            {'no_pe': pe_ttm is null, 'secondary': not is_primary, 'symbol': symbol}
        ) as chosen
    from listing_days
    where company_listings > 1
    group by company_id, date

),

group_days as (

    select
        groups.peer_group,
        company_days.date,
        company_days.chosen
    from company_days
    inner join {{ ref('bridge_company_peer_group') }} as groups on company_days.company_id = groups.company_id

),

group_day_samples as (

    -- Windows over each (peer group, day), not a group by: the medians keep every value of a group,
    -- and as a hash aggregate past the memory limit they spilled until the disk was full (more
    -- than 45 GB at 5,000 listings x 20 years, in the full build; 0.5 GB alone). A window sorts by
    -- group (an external sort when it must) and reads each group once. Each multiple's median is
    -- over the companies that have it that day, counted beside it.
    select
        peer_group,
        date,
        {{ peer_median("chosen.pe_ttm") }} over by_day as median_pe_ttm_of_those_with_one,
        {{ peer_median("chosen.pe_ttm_adjusted") }} over by_day as median_pe_ttm_adjusted_of_those_with_one,
        {{ peer_median("chosen.pe_forward") }} over by_day as median_pe_forward_of_those_with_one,
        {{ peer_median("chosen.ps_ttm") }} over by_day as median_ps_ttm_of_those_with_one,
        {{ peer_median("chosen.ev_ebitda_ttm") }} over by_day as median_ev_ebitda_ttm_of_those_with_one,
        count(chosen.pe_ttm) over by_day as companies_with_pe,
        count(chosen.pe_ttm_adjusted) over by_day as companies_with_pe_adjusted,
        count(chosen.pe_forward) over by_day as companies_with_pe_forward,
        count(chosen.ps_ttm) over by_day as companies_with_ps,
        count(chosen.ev_ebitda_ttm) over by_day as companies_with_ev_ebitda,
        count(*) over by_day as companies_with_prices
    from group_days
    window by_day as (partition by peer_group, date)
    qualify row_number() over by_day = 1

),

group_sizes as (

    {{ peer_group_sizes() }}

),

final as (

    -- a median only over enough of the group (two companies and half of it at least), else null;
    -- one row per (peer group, day) by now, so the join is cheap
    select
        samples.peer_group,
        samples.date,
        {{ median_of_enough_companies('samples.median_pe_ttm_of_those_with_one',
            'samples.companies_with_pe', 'group_sizes.companies_in_group') }} as median_pe_ttm,
        {{ median_of_enough_companies('samples.median_pe_ttm_adjusted_of_those_with_one',
            'samples.companies_with_pe_adjusted', 'group_sizes.companies_in_group') }} as median_pe_ttm_adjusted,
        {{ median_of_enough_companies('samples.median_pe_forward_of_those_with_one',
            'samples.companies_with_pe_forward', 'group_sizes.companies_in_group') }} as median_pe_forward,
        {{ median_of_enough_companies('samples.median_ps_ttm_of_those_with_one',
            'samples.companies_with_ps', 'group_sizes.companies_in_group') }} as median_ps_ttm,
        {{ median_of_enough_companies('samples.median_ev_ebitda_ttm_of_those_with_one',
            'samples.companies_with_ev_ebitda', 'group_sizes.companies_in_group') }} as median_ev_ebitda_ttm,
        group_sizes.companies_in_group,
        samples.companies_with_pe,
        samples.companies_with_pe_adjusted,
        samples.companies_with_pe_forward,
        samples.companies_with_ps,
        samples.companies_with_ev_ebitda,
        samples.companies_with_prices,
        timezone('UTC', current_timestamp) as built_at
    from group_day_samples as samples
    inner join group_sizes on samples.peer_group = group_sizes.peer_group

)

select * from final
