-- One rate per calendar day and currency: units of the currency per 1 USD.
-- A day without a quote (weekend, holiday of the FX series) carries the latest earlier quote
-- forward, never a later one backward, and at most `fx_max_carry_forward_days`; after that, null.

with

usd_pairs as (

    select symbol, base_currency, quote_currency
    from {{ ref('stg_universe_fx_pairs') }}
    where 'USD' in (base_currency, quote_currency)

),

quotes as (

    select
        prices.date as quote_date,
        case when pairs.base_currency = 'USD' then pairs.quote_currency else pairs.base_currency end as currency,
        case
            when pairs.base_currency = 'USD' then prices.close_price
            else 1.0 / prices.close_price
        end as units_per_usd,
        prices.loaded_at
    from {{ ref('stg_prices') }} as prices
    inner join usd_pairs as pairs on prices.symbol = pairs.symbol

),

calendar as (

    select cast(generate_series as date) as rate_date
    from generate_series(
        (select min(quote_date) from quotes),
        (select max(date) from {{ ref('stg_prices') }}),
        interval 1 day
    )

),

calendar_by_currency as (

    select calendar.rate_date, currencies.currency
    from calendar
    cross join (select distinct currency from quotes) as currencies

),

carried_forward as (

    select
        days.rate_date,
        days.currency,
        quotes.quote_date,
        quotes.units_per_usd,
        quotes.loaded_at
    from calendar_by_currency as days
    asof left join quotes
        on days.currency = quotes.currency
        and days.rate_date >= quotes.quote_date

),

foreign_currencies as (

    select
        rate_date,
        currency,
        quote_date,
        case
            when rate_date - quote_date <= {{ var('fx_max_carry_forward_days') }} then units_per_usd
        end as units_per_usd,
        loaded_at
    from carried_forward

),

us_dollar as (

    select rate_date, 'USD' as currency, rate_date as quote_date, 1.0 as units_per_usd, null as loaded_at
    from calendar

),

final as (

    select rate_date, currency, quote_date, units_per_usd, loaded_at from foreign_currencies
    union all
    select rate_date, currency, quote_date, units_per_usd, loaded_at from us_dollar

)

select * from final
