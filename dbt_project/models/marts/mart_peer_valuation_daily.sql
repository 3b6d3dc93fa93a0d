{{
    config(
        materialized='incremental',
        unique_key=['peer_group', 'date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where peer_group not in (select peer_group from {{ ref('bridge_company_peer_group') }})",
    )
}}

-- depends_on: {{ ref('stg_universe_peer_groups') }}
-- depends_on: {{ ref('stg_universe_listings') }}

-- Each peer group's median valuation on every trading day: the history behind
-- mart_peer_valuation's latest medians, small enough for a chart to read in milliseconds (the
-- daily fact table has a row per listing and day). Each company counts once, through its primary
-- listing. Incremental: only the dates fct_valuation_daily rebuilt since this model's last run
-- (every date when peer groups or primary listings change).

with

valuation as (

    select * from {{ ref('fct_valuation_daily') }}
    {% if is_incremental() %}
    where date >= coalesce(
        -- a changed peer group or primary listing: every date
        (
            select date '1900-01-01'
            from (
                select loaded_at from {{ ref('stg_universe_peer_groups') }}
                union all
                select loaded_at from {{ ref('stg_universe_listings') }}
            ) as configuration
            having max(loaded_at) > (select max(built_at) from {{ this }})
        ),
        (
            select min(date) from {{ ref('fct_valuation_daily') }}
            where built_at > (select max(built_at) from {{ this }})
        )
    )
    {% endif %}

),

members as (

    select groups.peer_group, listings.symbol
    from {{ ref('bridge_company_peer_group') }} as groups
    inner join {{ ref('dim_listing') }} as listings
        on groups.company_id = listings.company_id and listings.is_primary

),

final as (

    select
        members.peer_group,
        valuation.date,
        median(valuation.pe_ttm) as median_pe_ttm,
        median(valuation.ps_ttm) as median_ps_ttm,
        median(valuation.ev_ebitda_ttm) as median_ev_ebitda_ttm,
        count(valuation.pe_ttm) as companies_with_pe,
        count(*) as companies_with_prices,
        timezone('UTC', current_timestamp) as built_at
    from valuation
    inner join members on valuation.symbol = members.symbol
    group by members.peer_group, valuation.date

)

select * from final
