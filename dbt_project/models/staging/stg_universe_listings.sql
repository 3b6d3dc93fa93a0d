with

source as (

    select * from {{ source('raw', 'universe_listings') }}

),

renamed as (

    select
        ---------- ids
        symbol,
        company_id,
        benchmark_symbol,

        ---------- venue
        exchange,
        exchange_calendar,
        exchange_timezone,
        cast(session_open_local as time) as session_open_local,
        trading_currency,

        ---------- share class
        cast(shares_per_listing_unit as double) as shares_per_listing_unit,
        cast(is_primary as boolean) as is_primary,

        ---------- bookkeeping
        _loaded_at as loaded_at

    from source

)

select * from renamed
