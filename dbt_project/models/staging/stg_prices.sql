with

source as (

    select * from {{ source('raw', 'prices') }}

),

renamed as (

    select
        ---------- ids
        symbol,

        ---------- dates
        cast(date as date) as date,

        ---------- prices (in `currency`)
        cast(open as double) as open_price,
        cast(high as double) as high_price,
        cast(low as double) as low_price,
        cast(close as double) as close_price,
        cast(adj_close as double) as adj_close_price,
        adj_close_basis,
        currency,
        price_basis,

        ---------- volumes and corporate actions
        cast(volume as double) as volume,
        cast(dividends as double) as dividend_per_share,
        cast(stock_splits as double) as stock_split_ratio,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
