-- Yahoo's own figures beside ours, per listing and snapshot: market cap, trailing and forward
-- P/E, enterprise value, how far apart they are and why. Ours are taken on the session of the
-- vendor's price (its regularMarketTime, in the listing's exchange time: a snapshot taken before
-- Monday's open quotes Friday's close), so a difference is never one of two prices' days. The
-- forward P/E is ours on the same snapshot's estimate, converted at that session's FX rate.
-- A reason is given where the two differ by more than `reconciliation_tolerance`:
--   share_count    the vendor's market cap counts other shares than our point-in-time count
--   share_class    the vendor's share count is one class where its market cap is all of them
--   currency       the vendor mixes currencies (a USD price over a CNY estimate; a CNY value quoted as USD)
--   earnings_basis other earnings under the multiple (another TTM window, another estimate)
--   net_debt       the vendor's enterprise value adds other debt and cash to its market cap
--   timing         the vendor's price is not our close of that session
-- `explanation` gives the figures behind each reason. Symbols outside universe.yml are left out.

with

vendor as (

    select
        symbol,
        snapshot_date,
        max(snapshot_at_utc) as snapshot_at_utc,
        max(vendor_value) filter (where vendor_module = 'price' and vendor_field = 'regularMarketPrice') as vendor_price,
        max(module_currency) filter (where vendor_module = 'price' and vendor_field = 'regularMarketPrice') as price_currency,
        max(vendor_value) filter (where vendor_module = 'price' and vendor_field = 'regularMarketTime') as price_epoch,
        max(vendor_value) filter (where vendor_module = 'price' and vendor_field = 'marketCap') as market_cap,
        max(module_currency) filter (where vendor_module = 'price' and vendor_field = 'marketCap') as market_cap_currency,
        max(vendor_value) filter (where vendor_module = 'defaultKeyStatistics' and vendor_field = 'sharesOutstanding')
            as shares_outstanding,
        max(vendor_value) filter (where vendor_module = 'defaultKeyStatistics' and vendor_field = 'enterpriseValue')
            as enterprise_value,
        max(vendor_value) filter (where vendor_module = 'summaryDetail' and vendor_field = 'trailingPE') as trailing_pe,
        max(vendor_value) filter (where vendor_module = 'defaultKeyStatistics' and vendor_field = 'trailingEps')
            as trailing_eps,
        max(vendor_value) filter (where vendor_module = 'summaryDetail' and vendor_field = 'forwardPE')
            as forward_pe_summary_detail,
        max(vendor_value) filter (where vendor_module = 'defaultKeyStatistics' and vendor_field = 'forwardPE')
            as forward_pe_key_statistics,
        max(module_currency) filter (where vendor_module = 'financialData') as financial_currency
    from {{ ref('stg_vendor_figures') }}
    group by symbol, snapshot_date

),

listings as (

    select symbol, company_id, exchange_timezone, shares_per_listing_unit from {{ ref('stg_universe_listings') }}

),

vendor_sessions as (

    select
        vendor.*,
        listings.company_id,
        listings.shares_per_listing_unit,
        cast(timezone(listings.exchange_timezone, to_timestamp(vendor.price_epoch)) as date) as price_date
    from vendor
    inner join listings on vendor.symbol = listings.symbol

),

estimates as (

    -- the snapshot's own +1y estimate, per listing unit as the source quoted it
    select symbol, snapshot_date, eps_avg, eps_currency
    from {{ ref('stg_consensus_estimates') }}
    where estimate_period = '+1y'

),

fx as (

    select rate_date, currency, units_per_usd from {{ ref('int_fx_rates_daily') }}

),

ours as (

    select
        vendor_sessions.*,
        valuation.close,
        valuation.trading_currency,
        valuation.close / valuation.close_usd as local_per_usd,
        valuation.shares_outstanding as our_shares,
        valuation.shares_basis,
        valuation.shares_as_of,
        valuation.market_cap_usd,
        valuation.enterprise_value_usd,
        valuation.pe_ttm,
        valuation.pe_ttm_basis,
        valuation.ttm_eps,
        valuation.ttm_basis,
        valuation.fundamentals_period_end,
        estimates.eps_avg as estimate_per_unit,
        estimates.eps_currency as estimate_currency,
        forward.forward_eps / estimate_fx.units_per_usd * (valuation.close / valuation.close_usd)
            * vendor_sessions.shares_per_listing_unit as our_forward_eps,
        price_fx.units_per_usd as price_currency_per_usd,
        financial_fx.units_per_usd as financial_currency_per_usd
    from vendor_sessions
    left join {{ ref('fct_valuation_daily') }} as valuation
        on vendor_sessions.symbol = valuation.symbol
        and vendor_sessions.price_date = valuation.date
    left join estimates
        on vendor_sessions.symbol = estimates.symbol
        and vendor_sessions.snapshot_date = estimates.snapshot_date
    left join {{ ref('int_forward_eps_point_in_time') }} as forward
        on vendor_sessions.company_id = forward.company_id
        and vendor_sessions.snapshot_date = forward.forward_eps_snapshot_date
    left join fx as estimate_fx
        on vendor_sessions.price_date = estimate_fx.rate_date and forward.forward_eps_currency = estimate_fx.currency
    left join fx as price_fx
        on vendor_sessions.price_date = price_fx.rate_date and vendor_sessions.market_cap_currency = price_fx.currency
    left join fx as financial_fx
        on vendor_sessions.price_date = financial_fx.rate_date and vendor_sessions.financial_currency = financial_fx.currency

),

{% set tolerance = var('reconciliation_tolerance') %}

measures as (

    select
        ours.*,
        measure.*,
        measure.vendor_value / measure.warehouse_value - 1 as relative_difference
    from ours
    cross join unnest([
        {
            'measure': 'market_cap_usd', 'vendor_module': 'price',
            'vendor_value': ours.market_cap / ours.price_currency_per_usd, 'warehouse_value': ours.market_cap_usd
        },
        {
            'measure': 'pe_ttm', 'vendor_module': 'summaryDetail',
            'vendor_value': ours.trailing_pe, 'warehouse_value': ours.pe_ttm
        },
        {
            'measure': 'pe_forward', 'vendor_module': 'summaryDetail',
            'vendor_value': ours.forward_pe_summary_detail, 'warehouse_value': ours.close / ours.our_forward_eps
        },
        {
            'measure': 'pe_forward', 'vendor_module': 'defaultKeyStatistics',
            'vendor_value': ours.forward_pe_key_statistics, 'warehouse_value': ours.close / ours.our_forward_eps
        },
        {
            'measure': 'enterprise_value_usd', 'vendor_module': 'defaultKeyStatistics',
            'vendor_value': ours.enterprise_value, 'warehouse_value': ours.enterprise_value_usd
        }
    ]) as measures(measure)
    where measure.vendor_value is not null

),

reasons as (

    select
        *,
        abs(relative_difference) > {{ tolerance }} as differs,
        -- the vendor's shares behind its market cap, in ordinary shares
        market_cap / vendor_price * shares_per_listing_unit as vendor_ordinary_shares,
        -- the vendor's EPS under its multiple: its price over the multiple, in the price's currency
        vendor_price / vendor_value as vendor_eps,
        case shares_per_listing_unit when 1 then 'per share' else 'per ADS' end as per_unit,
        -- an enterprise value closer to ours once read in the reporting currency is in it
        measure = 'enterprise_value_usd' and financial_currency <> price_currency
            and abs(vendor_value / financial_currency_per_usd / warehouse_value - 1) < abs(vendor_value / warehouse_value - 1)
            as currency_mixed
    from measures

),

explained as (

    select
        *,
        list_filter([
            case when measure in ('market_cap_usd', 'enterprise_value_usd')
                and abs(vendor_ordinary_shares / our_shares - 1) > {{ tolerance }} then
                'share_count: Yahoo ' || printf('%,.1f', vendor_ordinary_shares / 1e6) || ' m ordinary shares (its market cap / its price'
                || case when shares_per_listing_unit <> 1 then ' x ' || shares_per_listing_unit::int || ' per ADS' else '' end
                || '), ours ' || printf('%,.1f', our_shares / 1e6) || ' m (' || shares_basis || ' as of ' || shares_as_of || ')'
            end,
            case when measure = 'market_cap_usd'
                and abs(shares_outstanding * vendor_price / market_cap - 1) > {{ tolerance }} then
                'share_class: Yahoo''s sharesOutstanding ' || printf('%,.1f', shares_outstanding / 1e6)
                || ' m is not the ' || printf('%,.1f', market_cap / vendor_price / 1e6) || ' m its market cap counts'
            end,
            case when measure = 'pe_forward' and vendor_module = 'defaultKeyStatistics'
                and estimate_currency <> price_currency
                and abs(vendor_eps / estimate_per_unit - 1) <= {{ tolerance }} then
                'currency: Yahoo divides the ' || price_currency || ' price ' || printf('%.2f', vendor_price)
                || ' by the ' || estimate_currency || ' estimate ' || printf('%.2f', estimate_per_unit) || ' ' || per_unit
            end,
            case when measure = 'enterprise_value_usd' and currency_mixed then
                'currency: Yahoo''s enterprise value ' || printf('%,.1f', vendor_value / 1e9) || ' bn is in '
                || financial_currency || ' (' || printf('%,.1f', vendor_value / financial_currency_per_usd / 1e9)
                || ' bn USD) beside a market cap in ' || price_currency
            end,
            case when measure = 'enterprise_value_usd' and not currency_mixed
                and abs((vendor_value - market_cap / price_currency_per_usd) - (warehouse_value - market_cap_usd))
                    > {{ tolerance }} * abs(warehouse_value) then
                'net_debt: Yahoo''s enterprise value less its market cap ' || printf('%,.1f', (vendor_value - market_cap / price_currency_per_usd) / 1e9)
                || ' bn USD, our net debt ' || printf('%,.1f', (warehouse_value - market_cap_usd) / 1e9) || ' bn USD'
            end,
            case when measure = 'pe_ttm' and abs(vendor_eps / ttm_eps - 1) > {{ tolerance }} then
                'earnings_basis: Yahoo''s trailing EPS ' || printf('%.2f', vendor_eps) || ' ' || price_currency
                || ', ours ' || printf('%.2f', ttm_eps) || ' ' || trading_currency || ' (' || pe_ttm_basis || ', '
                || ttm_basis || ' to ' || fundamentals_period_end || ')'
            end,
            case when measure = 'pe_forward' and abs(vendor_eps / our_forward_eps - 1) > {{ tolerance }}
                and not (vendor_module = 'defaultKeyStatistics' and estimate_currency <> price_currency
                         and abs(vendor_eps / estimate_per_unit - 1) <= {{ tolerance }}) then
                'earnings_basis: Yahoo''s forward EPS ' || printf('%.2f', vendor_eps) || ' ' || price_currency
                || ', ours ' || printf('%.2f', our_forward_eps) || ' ' || trading_currency || ' (the +1y consensus '
                || printf('%.2f', estimate_per_unit) || ' ' || estimate_currency || ' ' || per_unit || ' at the day''s rate)'
            end,
            case when measure in ('market_cap_usd', 'pe_ttm', 'pe_forward')
                and abs(vendor_price / close - 1) > {{ tolerance }} then
                'timing: Yahoo''s price ' || printf('%.2f', vendor_price) || ', our close of ' || price_date || ' '
                || printf('%.2f', close)
            end
        ], lambda reason: reason is not null) as found
    from reasons

),

final as (

    select
        symbol,
        company_id,
        snapshot_date,
        measure,
        vendor_module,
        price_date as compared_on,
        vendor_value,
        warehouse_value,
        relative_difference,
        case
            when warehouse_value is null then 'ours_null'
            when not differs then null
            when len(found) = 0 then 'unexplained'
            else array_to_string(list_transform(found, lambda reason: split_part(reason, ':', 1)), ', ')
        end as reason,
        case
            when warehouse_value is null then 'no figure of ours on ' || coalesce(cast(price_date as varchar), 'the price''s day')
            when differs and len(found) > 0 then array_to_string(found, '; ')
        end as explanation
    from explained

)

select * from final
