with

source as (

    select * from {{ source('raw', 'universe_fx_pairs') }}

),

renamed as (

    select
        symbol,
        base_currency,
        quote_currency

    from source

)

select * from renamed
