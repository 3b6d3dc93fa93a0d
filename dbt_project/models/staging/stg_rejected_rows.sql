with

source as (

    select * from {{ source('raw', 'rejected_rows') }}

),

renamed as (

    select
        dataset,
        symbol,
        reason as rejection_reason,
        payload as original_row_json,
        _source as loaded_from_source,
        _loaded_at as rejected_at

    from source

)

select * from renamed
