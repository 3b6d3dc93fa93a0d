-- The ordinary-share count of each company, as known from each publication date on, on today's
-- split basis. A dated outstanding count is preferred: the total where reported, otherwise the sum
-- of the share classes reported at that date (Alphabet's A, B and C; Meta's A and B); where no
-- outstanding count is known, the weighted-average diluted count; and only where neither is known,
-- the diluted count the company's own figures imply: net income over diluted EPS of one period in
-- one document (Baidu and PDD print no share count in their releases). shares_basis names the rule.
-- For figures that become known the same day, the latest "as of" date wins, then the better basis.

with

metrics as (

    select * from {{ ref('int_financial_metrics') }}

),

implied as (

    -- net income / diluted EPS (per ordinary share) of the same period, published together: the
    -- weighted-average diluted count the EPS was computed with, up to the rounding of the EPS
    -- (two decimals: about 0.02% on Baidu's RMB 65.91 per ADS) and dilution by subsidiaries
    select
        income.company_id,
        income.available_from,
        income.published_at_utc,
        income.period_end as shares_as_of,
        income.metric_value / eps.metric_value as share_count,
        'implied_by_net_income_and_eps' as shares_basis,
        4 as basis_rank
    from metrics as income
    inner join metrics as eps
        on income.company_id = eps.company_id
        and income.period_type = eps.period_type
        and income.period_end = eps.period_end
        and income.available_from = eps.available_from
        and income.currency = eps.currency
    where income.metric = 'net_income' and eps.metric = 'eps_diluted'
      and income.metric_value > 0 and eps.metric_value > 0
    -- of a per-share and a per-ADS EPS of one period (the same count up to rounding), the EPS per
    -- ordinary share as printed, as the TTM takes it (int_fundamentals_ttm)
    qualify row_number() over (
        partition by income.company_id, income.available_from, income.period_end
        order by income.period_type, eps.unit = 'per_ads'
    ) = 1

),

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
        end as basis_rank,
        -- a count of ordinary shares before the same count stated in depositary shares
        unit = 'ads' as in_depositary_shares
    from metrics
    where metric in ('shares_outstanding', 'shares_outstanding_class', 'weighted_avg_shares_diluted')
      and unit in ('shares', 'ads')
    union all
    select *, false from implied

),

outstanding as (

    -- per publication date: the latest dated outstanding count (total before sum of classes)
    select *
    from counts
    where basis_rank < 3
    qualify row_number() over (
        partition by company_id, available_from order by shares_as_of desc, basis_rank, in_depositary_shares
    ) = 1

),

weighted as (

    select *
    from counts
    where basis_rank = 3
    qualify row_number() over (partition by company_id, available_from order by shares_as_of desc) = 1

),

implied_counts as (

    select *
    from counts
    where basis_rank = 4
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
        weighted.share_count as weighted_count,
        implied_counts.shares_as_of as implied_as_of,
        implied_counts.share_count as implied_count
    from publication_dates
    asof left join outstanding
        on publication_dates.company_id = outstanding.company_id
        and publication_dates.available_from >= outstanding.available_from
    asof left join weighted
        on publication_dates.company_id = weighted.company_id
        and publication_dates.available_from >= weighted.available_from
    asof left join implied_counts
        on publication_dates.company_id = implied_counts.company_id
        and publication_dates.available_from >= implied_counts.available_from

),

chosen as (

    -- a dated outstanding count wins unless it is more than a year older than the weighted average
    select
        *,
        case
            when outstanding_count is not null
                and (weighted_as_of is null or outstanding_as_of >= weighted_as_of - interval 365 day)
                then 'outstanding'
            when weighted_count is not null then 'weighted'
            when implied_count is not null then 'implied'
        end as rule
    from known

),

final as (

    select
        chosen.company_id,
        chosen.available_from,
        counts_published.published_at_utc,
        case rule when 'outstanding' then outstanding_as_of when 'weighted' then weighted_as_of else implied_as_of end
            as shares_as_of,
        case rule when 'outstanding' then outstanding_count when 'weighted' then weighted_count else implied_count end
            as share_count,
        case rule
            when 'outstanding' then outstanding_basis
            when 'weighted' then 'weighted_avg_diluted'
            else 'implied_by_net_income_and_eps'
        end as shares_basis
    from chosen
    inner join (
        select distinct company_id, available_from, published_at_utc from counts
    ) as counts_published
        on chosen.company_id = counts_published.company_id
        and chosen.available_from = counts_published.available_from
    where chosen.rule is not null

)

select * from final
