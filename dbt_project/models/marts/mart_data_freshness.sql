-- Freshness of every series as the Dagster check evaluated it (exchange calendars live in Python,
-- in orchestration/freshness.py): published here, beside the other marts, with its contract.

with

evaluated as (

    select * from {{ source('freshness', 'data_freshness') }}

),

final as (

    select
        ---------- ids
        symbol,
        dataset,
        exchange_calendar,

        ---------- dates
        last_data_date,
        expected_data_date,
        sessions_behind,

        ---------- verdict
        status,
        detail,
        evaluated_at

    from evaluated

)

select * from final
