with

source as (

    select * from {{ source('raw', 'universe_peer_groups') }}

),

renamed as (

    select
        company_id,
        peer_group,
        description as peer_group_description

    from source

)

select * from renamed
