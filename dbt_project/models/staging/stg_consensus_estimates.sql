with

source as (

    select * from {{ source('raw', 'consensus_estimates') }}

),

renamed as (

    select
        ---------- ids
        symbol,
        period as estimate_period,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date,
        cast(snapshot_at as timestamp) as snapshot_at_utc,
        cast(end_date as date) as period_end,

        ---------- EPS estimates, per listing unit of `symbol` (an ADS for BABA), in eps_currency
        cast(eps_avg as double) as eps_avg,
        cast(eps_low as double) as eps_low,
        cast(eps_high as double) as eps_high,
        cast(eps_year_ago as double) as eps_year_ago,
        cast(eps_analysts as integer) as eps_analysts,
        eps_currency,

        ---------- revenue estimates, in revenue_currency
        cast(revenue_avg as double) as revenue_avg,
        cast(revenue_low as double) as revenue_low,
        cast(revenue_high as double) as revenue_high,
        cast(revenue_analysts as integer) as revenue_analysts,
        revenue_currency,

        ---------- the average EPS estimate as it stood before the snapshot
        cast(eps_trend_current as double) as eps_trend_current,
        cast(eps_trend_7d_ago as double) as eps_trend_7d_ago,
        cast(eps_trend_30d_ago as double) as eps_trend_30d_ago,
        cast(eps_trend_60d_ago as double) as eps_trend_60d_ago,
        cast(eps_trend_90d_ago as double) as eps_trend_90d_ago,
        eps_trend_currency,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
