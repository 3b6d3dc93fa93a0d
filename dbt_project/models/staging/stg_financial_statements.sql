with

source as (

    select * from {{ source('raw', 'financial_statements') }}

),

renamed as (

    select
        ---------- ids
        symbol,
        statement,
        period_type,
        fiscal_period,
        line_item,

        ---------- dates
        cast(period_start as date) as period_start,
        cast(period_end as date) as period_end,
        cast(filed_date as date) as filed_date,

        ---------- amounts (base units: currency units, shares, or currency per share)
        cast(value as double) as reported_value,
        currency,
        unit,

        ---------- the filing (SEC EDGAR rows)
        accn as accession_number,
        form as filing_form,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
