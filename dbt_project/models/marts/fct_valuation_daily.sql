{{ incremental_mart(unique_key=['symbol', 'date'], retired_column='symbol', kept_in='dim_listing') }}

-- depends_on: {{ ref('int_financial_metrics') }}
-- depends_on: {{ ref('stg_consensus_estimates') }}
-- depends_on: {{ ref('stg_universe_listings') }}

-- One row per listing and trading day: close, market cap in four currencies, TTM fundamentals as
-- known that day, and the valuation ratios.
-- Market cap = ordinary shares known that day x traded close / ordinary shares per listing unit,
-- so an ADS and an ordinary-share listing of one company agree. The close is the traded one (a
-- dividend-adjusted close would understate it), and it, the share count and the EPS are all on
-- today's split basis. A figure counts from the first session of the listing's own exchange that
-- opens after its publication: each price takes its session's company state from
-- int_listing_states. Every amount is converted with the FX rate of the row's own date.
--
-- Incremental (macros/incremental_marts.sql): each run rebuilds, per symbol, every day from the
-- earliest date that any of its inputs changed since the last build (new or corrected prices,
-- newly published fundamentals, FX quotes, a changed listing), plus the last
-- `valuation_rebuild_lookback_days` days. Every input is
-- joined as of the row's date (nothing later), so rebuilding a date range alone gives the same
-- rows as a full refresh. A listing removed from universe.yml leaves the mart (post_hook), as it
-- would on a full refresh; its raw history stays.

with

listings as (

    select * from {{ ref('dim_listing') }}

),

rebuild_from as (

    {% call rebuild_from('listings', 'date') %}
    -- prices loaded since the last build
    select symbol, min(date)
    from {{ ref('stg_prices') }}
    where loaded_at > {{ last_build_at() }}
    group by symbol
    union all
    -- fundamentals loaded since the last build, from the day they were published
    select listings.symbol, min(metrics.available_from)
    from {{ ref('int_financial_metrics') }} as metrics
    inner join listings on metrics.company_id = listings.company_id
    where metrics.loaded_at > {{ last_build_at() }}
    group by listings.symbol
    union all
    -- FX quotes loaded since the last build touch every listing
    select listings.symbol, fx_changes.changed_from
    from listings
    cross join (
        select min(rate_date) as changed_from
        from {{ ref('int_fx_rates_daily') }}
        where loaded_at > {{ last_build_at() }}
    ) as fx_changes
    where fx_changes.changed_from is not null
    union all
    -- consensus snapshots loaded since the last build, from their snapshot day
    select listings.symbol, min(estimates.snapshot_date)
    from {{ ref('stg_consensus_estimates') }} as estimates
    inner join {{ ref('stg_universe_listings') }} as asked on estimates.symbol = asked.symbol
    inner join listings on asked.company_id = listings.company_id
    where estimates.loaded_at > {{ last_build_at() }}
    group by listings.symbol
    {% endcall %}

),

listing_prices as (

    select
        prices.symbol,
        listings.company_id,
        prices.date,
        prices.close_price,
        prices.price_basis,
        listings.trading_currency,
        listings.shares_per_listing_unit
    from {{ ref('stg_prices') }} as prices
    inner join listings on prices.symbol = listings.symbol
    inner join rebuild_from
        on prices.symbol = rebuild_from.symbol
        and prices.date >= rebuild_from.rebuild_from

),

listing_states as (

    select * from {{ ref('int_listing_states') }}

),

listing_states_by_month as (

    -- each state listed under every month it holds in: a price finds its state by a hash join on
    -- (listing, month) and the date range. The same rows as an ASOF join of the prices, which sorted
    -- the whole price history (about 15% of the model at 5,000 listings x 20 years).
    select
        states.*,
        cast(months.month as date) as month
    from listing_states as states
    cross join unnest(generate_series(
        date_trunc('month', states.from_date),
        -- the latest still holds up to the last price
        date_trunc('month', coalesce(states.until_date - 1, (select max(date) from {{ ref('stg_prices') }}))),
        interval 1 month
    )) as months(month)

),

with_fundamentals as (

    select
        listing_prices.*,
        state.* exclude (
            symbol, from_date, until_date, month, ttm_revenue, ttm_net_income, ttm_ebitda, ttm_eps_diluted,
            adjusted_earnings_basis, ttm_adjusted_eps_diluted, ttm_adjusted_net_income,
            forward_eps, forward_eps_basis, forward_eps_snapshot_date, forward_eps_period_end
        ),
        {% for column in ['ttm_revenue', 'ttm_net_income', 'ttm_ebitda', 'ttm_eps_diluted'] %}
        -- a TTM older than the stated maximum age is no longer a trailing figure: null
        case
            when listing_prices.date - state.fundamentals_period_end <= {{ var('ttm_max_age_days') }}
                then state.{{ column }}
        end as {{ column }},
        {% endfor %}
        -- the adjusted TTM by the same rule, on its own period end
        {% for column in ['adjusted_earnings_basis', 'ttm_adjusted_eps_diluted', 'ttm_adjusted_net_income'] %}
        case
            when listing_prices.date - state.adjusted_period_end <= {{ var('ttm_max_age_days') }}
                then state.{{ column }}
        end as {{ column }},
        {% endfor %}
        -- a consensus is current only for `forward_eps_max_age_days` after its snapshot
        {% for column in ['forward_eps', 'forward_eps_basis', 'forward_eps_snapshot_date', 'forward_eps_period_end'] %}
        case
            when listing_prices.date - state.forward_eps_snapshot_date <= {{ var('forward_eps_max_age_days') }}
                then state.{{ column }}
        end as {{ column }},
        {% endfor %}
    from listing_prices
    left join listing_states_by_month as state
        on listing_prices.symbol = state.symbol
        and date_trunc('month', listing_prices.date) = state.month
        and listing_prices.date >= state.from_date
        and (listing_prices.date < state.until_date or state.until_date is null)

),

fx as (

    select rate_date, currency, units_per_usd from {{ ref('int_fx_rates_daily') }}

),

with_fx as (

    select
        with_fundamentals.*,
        local_fx.units_per_usd as local_per_usd,
        hkd_fx.units_per_usd as hkd_per_usd,
        cny_fx.units_per_usd as cny_per_usd,
        reporting_fx.units_per_usd as reporting_per_usd,
        eps_fx.units_per_usd as eps_per_usd,
        adjusted_fx.units_per_usd as adjusted_per_usd,
        forward_fx.units_per_usd as forward_per_usd
    from with_fundamentals
    left join fx as local_fx
        on with_fundamentals.date = local_fx.rate_date
        and with_fundamentals.trading_currency = local_fx.currency
    left join fx as hkd_fx
        on with_fundamentals.date = hkd_fx.rate_date and hkd_fx.currency = 'HKD'
    left join fx as cny_fx
        on with_fundamentals.date = cny_fx.rate_date and cny_fx.currency = 'CNY'
    left join fx as reporting_fx
        on with_fundamentals.date = reporting_fx.rate_date
        and with_fundamentals.reporting_currency = reporting_fx.currency
    left join fx as eps_fx
        on with_fundamentals.date = eps_fx.rate_date
        and with_fundamentals.eps_currency = eps_fx.currency
    left join fx as adjusted_fx
        on with_fundamentals.date = adjusted_fx.rate_date
        and with_fundamentals.adjusted_currency = adjusted_fx.currency
    left join fx as forward_fx
        on with_fundamentals.date = forward_fx.rate_date
        and with_fundamentals.forward_eps_currency = forward_fx.currency

),

in_usd as (

    select
        *,
        share_count * close_price / shares_per_listing_unit as market_cap_local,
        share_count * close_price / shares_per_listing_unit / local_per_usd as market_cap_usd,
        ttm_revenue / reporting_per_usd as ttm_revenue_usd,
        ttm_net_income / reporting_per_usd as ttm_net_income_usd,
        ttm_ebitda / reporting_per_usd as ttm_ebitda_usd,
        (total_debt - cash_and_short_term_investments) / reporting_per_usd as net_debt_usd,
        -- per listing unit, in the trading currency: EPS per ordinary share x shares per unit
        ttm_eps_diluted / eps_per_usd * local_per_usd * shares_per_listing_unit as ttm_eps,
        ttm_adjusted_eps_diluted / adjusted_per_usd * local_per_usd * shares_per_listing_unit as ttm_adjusted_eps,
        ttm_adjusted_net_income / adjusted_per_usd as ttm_adjusted_net_income_usd,
        forward_eps / forward_per_usd * local_per_usd * shares_per_listing_unit as forward_eps_per_unit
    from with_fx

),

final as (

    select
        ---------- ids
        symbol,
        company_id,
        date,

        ---------- price
        close_price as close,
        trading_currency,
        price_basis,
        close_price / local_per_usd as close_usd,

        ---------- shares (ordinary shares, point in time)
        share_count as shares_outstanding,
        shares_basis,
        shares_as_of,

        ---------- market cap; a currency's own listing keeps its exact local figure
        market_cap_local,
        market_cap_usd,
        case when trading_currency = 'HKD' then market_cap_local else market_cap_usd * hkd_per_usd end
            as market_cap_hkd,
        case when trading_currency = 'CNY' then market_cap_local else market_cap_usd * cny_per_usd end
            as market_cap_cny,

        ---------- fundamentals known on this date, converted at this date's rate
        ttm_revenue_usd,
        ttm_net_income_usd,
        ttm_ebitda_usd,
        net_debt_usd,
        market_cap_usd + net_debt_usd as enterprise_value_usd,
        ttm_eps,

        ---------- ratios: null where the denominator is not positive
        -- on diluted EPS where a TTM EPS is known; otherwise market cap over TTM net income (the
        -- same reported earnings, for a company whose releases print too few EPS figures: PDD)
        case
            when ttm_eps is not null then case when ttm_eps > 0 then close_price / ttm_eps end
            when ttm_net_income_usd > 0 then market_cap_usd / ttm_net_income_usd
        end as pe_ttm,
        case
            when ttm_eps is not null then case when ttm_eps > 0 then 'diluted_eps' end
            when ttm_net_income_usd > 0 and market_cap_usd is not null then 'net_income'
        end as pe_ttm_basis,
        -- on the company's adjusted (non-GAAP) earnings, per share where it publishes a per-share
        -- figure, else over the amount; adjusted_earnings_basis says which series
        case
            when ttm_adjusted_eps is not null then case when ttm_adjusted_eps > 0 then close_price / ttm_adjusted_eps end
            when ttm_adjusted_net_income_usd > 0 then market_cap_usd / ttm_adjusted_net_income_usd
        end as pe_ttm_adjusted,
        case
            when (ttm_adjusted_eps > 0 and close_price is not null)
                or (ttm_adjusted_eps is null and ttm_adjusted_net_income_usd > 0 and market_cap_usd is not null)
                then adjusted_earnings_basis
        end as adjusted_earnings_basis,
        ttm_adjusted_eps,
        ttm_adjusted_net_income_usd,
        -- on the analysts' consensus of the next fiscal year, converted at this date's rate
        case when forward_eps_per_unit > 0 then close_price / forward_eps_per_unit end as pe_forward,
        forward_eps_per_unit as forward_eps,
        case when forward_eps_per_unit > 0 and close_price is not null then forward_eps_basis end as forward_eps_basis,
        case when forward_eps_per_unit > 0 and close_price is not null then forward_eps_snapshot_date end
            as forward_eps_snapshot_date,
        case when ttm_revenue_usd > 0 then market_cap_usd / ttm_revenue_usd end as ps_ttm,
        case when ttm_ebitda_usd > 0 then (market_cap_usd + net_debt_usd) / ttm_ebitda_usd end as ev_ebitda_ttm,
        fundamentals_period_end,
        ttm_basis,

        ---------- bookkeeping
        timezone('UTC', current_timestamp) as built_at

    from in_usd

)

select * from final
