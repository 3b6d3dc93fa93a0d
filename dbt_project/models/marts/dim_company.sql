with

companies as (

    select * from {{ ref('stg_universe_companies') }}

),

primary_listings as (

    select company_id, symbol from {{ ref('stg_universe_listings') }} where is_primary

),

latest_profiles as (

    select symbol, sector, industry
    from {{ ref('stg_company_profiles') }}
    qualify row_number() over (partition by symbol order by snapshot_date desc) = 1

),

final as (

    select
        companies.company_id,
        companies.company_name,
        companies.country,
        -- universe.yml wins; the source's classification fills what it leaves open
        coalesce(companies.sector, latest_profiles.sector) as sector,
        coalesce(companies.industry, latest_profiles.industry) as industry,
        companies.reporting_currency,
        companies.fiscal_year_end_month,
        primary_listings.symbol as primary_symbol
    from companies
    left join primary_listings on companies.company_id = primary_listings.company_id
    left join latest_profiles on primary_listings.symbol = latest_profiles.symbol

)

select * from final
