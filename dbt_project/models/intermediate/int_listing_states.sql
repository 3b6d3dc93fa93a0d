-- Each listing's company state by session: the share count, the reported and adjusted TTM
-- fundamentals and the analysts' forward EPS as known, one row per listing and first session a new
-- state holds from (from_date) until the next one (until_date, exclusive). fct_valuation_daily
-- gives each price the state of its session.
--
-- A state counts from the first session of the listing's own exchange that opens after its
-- publication: the publication moment in the exchange's time, then that day's session if it opens
-- later, else the next day's. Converted once per state and listing, not once per price (at 5,000
-- listings x 20 years the mart took 20.9 s converting every session's open to UTC, 16.4 s this
-- way, the same rows). The same sessions as comparing in UTC for an open outside a daylight-saving
-- transition hour: the open comes from the exchange's calendar, in the calendar's own time zone
-- (universe.yml is refused otherwise).

with

listings as (

    select symbol, company_id, exchange_timezone, session_open_local from {{ ref('stg_universe_listings') }}

),

company_state as (

    -- Each company's share count and fundamentals as known from every moment either changed:
    -- prices then take the state of their session in one join (a join per input would read the
    -- whole price history once more each).
    select
        moments.company_id,
        moments.published_at_utc,
        shares.share_count,
        shares.shares_basis,
        shares.shares_as_of,
        fundamentals.fundamentals_period_end,
        fundamentals.ttm_basis,
        fundamentals.reporting_currency,
        fundamentals.eps_currency,
        fundamentals.ttm_revenue,
        fundamentals.ttm_net_income,
        fundamentals.ttm_ebitda,
        fundamentals.ttm_eps_diluted,
        fundamentals.total_debt,
        fundamentals.cash_and_short_term_investments,
        fundamentals.adjusted_earnings_basis,
        fundamentals.adjusted_period_end,
        fundamentals.adjusted_currency,
        fundamentals.ttm_adjusted_eps_diluted,
        fundamentals.ttm_adjusted_net_income,
        forward.forward_eps,
        forward.forward_eps_currency,
        forward.forward_eps_basis,
        forward.forward_eps_snapshot_date,
        forward.forward_eps_period_end
    from (
        select company_id, published_at_utc from {{ ref('int_share_counts_point_in_time') }}
        union
        select company_id, published_at_utc from {{ ref('int_fundamentals_point_in_time') }}
        union
        select company_id, published_at_utc from {{ ref('int_forward_eps_point_in_time') }}
    ) as moments
    asof left join {{ ref('int_share_counts_point_in_time') }} as shares
        on moments.company_id = shares.company_id
        and moments.published_at_utc >= shares.published_at_utc
    asof left join {{ ref('int_fundamentals_point_in_time') }} as fundamentals
        on moments.company_id = fundamentals.company_id
        and moments.published_at_utc >= fundamentals.published_at_utc
    asof left join {{ ref('int_forward_eps_point_in_time') }} as forward
        on moments.company_id = forward.company_id
        and moments.published_at_utc >= forward.published_at_utc

),

state_sessions as (

    select
        symbol,
        published_at_utc,
        cast(published_local as date)
            + case when cast(published_local as time) < session_open_local then 0 else 1 end as from_date,
        state.* exclude (company_id, symbol, published_at_utc, session_open_local, published_local)
    from (
        select
            state.*,
            listings.symbol,
            listings.session_open_local,
            timezone(listings.exchange_timezone, timezone('UTC', state.published_at_utc)) as published_local
        from company_state as state
        inner join listings on state.company_id = listings.company_id
    ) as state

),

listing_states as (

    -- of the states published before one session, the latest holds (each carries all known by then)
    select
        * exclude (published_at_utc),
        lead(from_date) over (partition by symbol order by from_date) as until_date
    from (
        select *
        from state_sessions
        qualify row_number() over (partition by symbol, from_date order by published_at_utc desc) = 1
    )

)

select * from listing_states
