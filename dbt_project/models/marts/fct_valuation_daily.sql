-- One row per listing and trading day: the close, and the company's market cap in the listing's
-- currency, USD, HKD and CNY. Market cap = ordinary shares known on that day x close / ordinary
-- shares per listing unit, so an ADS and an ordinary-share listing of one company agree.

with

listings as (

    select * from {{ ref('dim_listing') }}

),

listing_prices as (

    select
        prices.symbol,
        listings.company_id,
        prices.trade_date,
        prices.close_price,
        prices.price_basis,
        listings.trading_currency,
        listings.shares_per_listing_unit
    from {{ ref('stg_prices') }} as prices
    inner join listings on prices.symbol = listings.symbol

),

with_shares as (

    select
        listing_prices.*,
        shares.share_count,
        shares.shares_basis,
        shares.shares_as_of
    from listing_prices
    asof left join {{ ref('int_share_counts_point_in_time') }} as shares
        on listing_prices.company_id = shares.company_id
        and listing_prices.trade_date >= shares.available_from

),

fx as (

    select rate_date, currency, units_per_usd from {{ ref('int_fx_rates_daily') }}

),

in_usd as (

    select
        with_shares.*,
        local_fx.units_per_usd as local_per_usd,
        hkd_fx.units_per_usd as hkd_per_usd,
        cny_fx.units_per_usd as cny_per_usd,
        with_shares.share_count * with_shares.close_price
            / with_shares.shares_per_listing_unit as market_cap_local
    from with_shares
    left join fx as local_fx
        on with_shares.trade_date = local_fx.rate_date and with_shares.trading_currency = local_fx.currency
    left join fx as hkd_fx
        on with_shares.trade_date = hkd_fx.rate_date and hkd_fx.currency = 'HKD'
    left join fx as cny_fx
        on with_shares.trade_date = cny_fx.rate_date and cny_fx.currency = 'CNY'

),

final as (

    select
        ---------- ids
        symbol,
        company_id,
        trade_date as date,

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
        market_cap_local / local_per_usd as market_cap_usd,
        case
            when trading_currency = 'HKD' then market_cap_local
            else market_cap_local / local_per_usd * hkd_per_usd
        end as market_cap_hkd,
        case
            when trading_currency = 'CNY' then market_cap_local
            else market_cap_local / local_per_usd * cny_per_usd
        end as market_cap_cny

    from in_usd

)

select * from final
