with

source as (

    select * from {{ source('raw', 'stock_splits') }}

),

renamed as (

    select
        ---------- ids
        symbol,

        ---------- dates
        cast(ex_date as date) as ex_date,

        ---------- ratio: new shares per old share of the listed instrument
        cast(split_ratio as double) as split_ratio,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
