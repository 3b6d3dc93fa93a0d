with

memberships as (

    select * from {{ ref('stg_universe_peer_groups') }}

),

final as (

    select
        company_id,
        peer_group,
        peer_group_description
    from memberships

)

select * from final
