-- The ordinary-share count of each company, as known from each publication date on, on today's
-- split basis. A dated outstanding count is preferred: the total where reported, otherwise the sum
-- of the share classes reported at that date (Alphabet's A, B and C; Meta's A and B); only where
-- no outstanding count is known, the weighted-average diluted count. shares_basis names the rule.
-- For figures that become known the same day, the latest "as of" date wins, then the better basis.

with

counts as (

    select
        company_id,
        available_from,
        published_at_utc,
        period_end as shares_as_of,
        metric_value as share_count,
        case metric
            when 'shares_outstanding' then 'shares_outstanding'
            when 'shares_outstanding_class' then 'sum_of_share_classes'
            else 'weighted_avg_diluted'
        end as shares_basis,
        case metric
            when 'shares_outstanding' then 1
            when 'shares_outstanding_class' then 2
            else 3
        end as basis_rank
    from {{ ref('int_financial_metrics') }}
    where metric in ('shares_outstanding', 'shares_outstanding_class', 'weighted_avg_shares_diluted')
      and unit = 'shares'

),

outstanding as (

    -- per publication date: the latest dated outstanding count (total before sum of classes)
    select *
    from counts
    where basis_rank < 3
    qualify row_number() over (
        partition by company_id, available_from order by shares_as_of desc, basis_rank
    ) = 1

),

weighted as (

    select *
    from counts
    where basis_rank = 3
    qualify row_number() over (partition by company_id, available_from order by shares_as_of desc) = 1

),

publication_dates as (

    select distinct company_id, available_from from counts

),

known as (

    -- what each kind says on each publication date: its latest figure known by then
    select
        publication_dates.company_id,
        publication_dates.available_from,
        outstanding.shares_as_of as outstanding_as_of,
        outstanding.share_count as outstanding_count,
        outstanding.shares_basis as outstanding_basis,
        weighted.shares_as_of as weighted_as_of,
        weighted.share_count as weighted_count
    from publication_dates
    asof left join outstanding
        on publication_dates.company_id = outstanding.company_id
        and publication_dates.available_from >= outstanding.available_from
    asof left join weighted
        on publication_dates.company_id = weighted.company_id
        and publication_dates.available_from >= weighted.available_from

),

final as (

    -- a dated outstanding count wins unless it is more than a year older than the weighted average
    select
        known.company_id,
        known.available_from,
        counts_published.published_at_utc,
        case when use_outstanding then outstanding_as_of else weighted_as_of end as shares_as_of,
        case when use_outstanding then outstanding_count else weighted_count end as share_count,
        case when use_outstanding then outstanding_basis else 'weighted_avg_diluted' end as shares_basis
    from (
        select
            *,
            outstanding_count is not null
            and (weighted_as_of is null or outstanding_as_of >= weighted_as_of - interval 365 day) as use_outstanding
        from known
    ) as known
    inner join (
        select distinct company_id, available_from, published_at_utc from counts
    ) as counts_published
        on known.company_id = counts_published.company_id
        and known.available_from = counts_published.available_from

)

select * from final
