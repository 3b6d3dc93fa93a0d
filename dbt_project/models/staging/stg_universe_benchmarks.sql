with

source as (

    select * from {{ source('raw', 'universe_benchmarks') }}

),

renamed as (

    select
        symbol,
        benchmark_name,
        exchange

    from source

)

select * from renamed
