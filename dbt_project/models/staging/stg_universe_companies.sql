with

source as (

    select * from {{ source('raw', 'universe_companies') }}

),

renamed as (

    select
        company_id,
        company_name,
        country,
        sector,
        industry,
        reporting_currency,
        cast(fiscal_year_end_month as integer) as fiscal_year_end_month

    from source

)

select * from renamed
