with

source as (

    select * from {{ source('raw', 'universe_peer_groups') }}

),

renamed as (

    select
        company_id,
        peer_group,
        description as peer_group_description,
        _loaded_at as loaded_at

    from source

)

select * from renamed
