-- The ordinary-share count of each company, as known from each date on.
-- Shares outstanding where reported; otherwise the weighted-average diluted count, flagged in
-- shares_basis. For figures that become known the same day, the latest count wins.

with

counts as (

    select
        company_id,
        available_from,
        period_end as shares_as_of,
        metric_value as share_count,
        case metric
            when 'shares_outstanding' then 'shares_outstanding'
            else 'weighted_avg_diluted'
        end as shares_basis,
        case metric when 'shares_outstanding' then 1 else 2 end as basis_rank
    from {{ ref('int_financial_metrics') }}
    where metric in ('shares_outstanding', 'weighted_avg_shares_diluted')
      and unit = 'shares'

),

ranked as (

    select
        *,
        row_number() over (
            partition by company_id, available_from
            order by shares_as_of desc, basis_rank
        ) as rank_same_day
    from counts

),

final as (

    select company_id, available_from, shares_as_of, share_count, shares_basis
    from ranked
    where rank_same_day = 1

)

select * from final
