with

source as (

    select * from {{ source('raw', 'company_profiles') }}

),

renamed as (

    select
        ---------- ids
        symbol,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date,

        ---------- descriptive
        name as company_name,
        exchange as exchange_code,
        currency as trading_currency,
        financial_currency as reporting_currency,
        sector,
        industry,
        country,

        ---------- figures as the source reported them
        cast(shares_outstanding as double) as shares_outstanding,
        cast(market_cap as double) as source_market_cap,
        cast(trailing_pe as double) as source_trailing_pe,
        cast(forward_pe as double) as source_forward_pe,
        cast(enterprise_value as double) as source_enterprise_value,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
