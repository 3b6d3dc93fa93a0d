with

source as (

    select * from {{ source('raw', 'vendor_figures') }}

),

renamed as (

    select
        ---------- ids
        symbol,
        module as vendor_module,
        field as vendor_field,

        ---------- dates
        cast(snapshot_date as date) as snapshot_date,
        cast(snapshot_at as timestamp) as snapshot_at_utc,

        ---------- the figure as the source quoted it
        cast(value as double) as vendor_value,
        -- the currency the module states for itself (summaryDetail and price: the trading currency;
        -- financialData: the reporting currency; defaultKeyStatistics: none). Whether a field is in
        -- it is the vendor's affair: mart_vendor_reconciliation says where it is not.
        currency as module_currency,

        ---------- bookkeeping
        _source as loaded_from_source,
        _loaded_at as loaded_at

    from source

)

select * from renamed
