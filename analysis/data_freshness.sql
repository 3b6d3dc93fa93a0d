-- What is late: every series that is not fresh, worst first.
select symbol, dataset, status, last_data_date, expected_data_date, sessions_behind, detail, evaluated_at
from marts.mart_data_freshness
order by status = 'fresh', sessions_behind desc nulls first, symbol, dataset
