with

listings as (

    select * from {{ ref('stg_universe_listings') }}

),

final as (

    select
        symbol,
        company_id,
        exchange,
        exchange_calendar,
        exchange_timezone,
        trading_currency,
        shares_per_listing_unit,
        is_primary,
        benchmark_symbol
    from listings

)

select * from final
