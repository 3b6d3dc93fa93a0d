"""`make superset`: Superset over the read-only serving copy, with the seed analysis in it.

Run with superset/.venv/bin/python (Superset's own environment, not the project's). In order:

1. initialises Superset's metadata database (sqlite in --home) and creates the admin user, once per
   home and Superset version (`superset db upgrade`, `superset fab create-admin`, `superset init`);
2. starts the web server (gunicorn) on 127.0.0.1:--port;
3. through Superset's REST API, as the admin: registers the serving copy as the database
   `valuation_serving`, read-only (duckdb-engine, connect_args read_only true, DML refused);
   saves each analysis/*.sql as a virtual dataset named after the file with one chart each, and a
   dashboard of those charts. Running it again updates them in place (the SQL from the files, the
   path of the serving copy), so it is also how a changed analysis/*.sql gets into Superset;
4. prints where to log in and serves until interrupted (Ctrl-C stops the server too).

A line `superset ready: <url>` on stdout says the server is up and everything is saved.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import prison
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent

DATABASE_NAME = "valuation_serving"
DASHBOARD_TITLE = "Valuation warehouse: seed analysis"
DASHBOARD_SLUG = "seed-analysis"
ADMIN_USER = os.environ.get("SUPERSET_ADMIN_USER", "admin")
ADMIN_PASSWORD = os.environ.get("SUPERSET_ADMIN_PASSWORD", "admin")
# Stable identities, so every home gets the same uuids for the same objects.
NAMESPACE = uuid.UUID("0f0c4c7e-8f3a-4b61-9d2e-5a1f3c2b7d10")

# One chart per analysis/<stem>.sql. A line chart draws `metric` over `x` (truncated to `grain`,
# a day unless given), one line per `series`: MAX(metric), each (series, day) being one row of the
# query; with `latest_in_grain`, the value of the latest row of each (series, grain). A table shows
# the rows; a query without an entry here gets one.
CHARTS: dict[str, dict[str, Any]] = {
    "pe_china_vs_us": {
        "title": "Trailing P/E: China internet vs US megacaps (peer median, weekly)",
        "kind": "line", "x": "date", "metric": "median_pe_ttm", "series": "peer_group",
    },
    "market_caps_by_currency": {"title": "Market caps in USD, HKD and CNY", "kind": "table"},
    "alibaba_vs_hang_seng": {
        "title": "Alibaba (9988.HK, BABA) vs the Hang Seng: growth of 1 since 2024",
        "kind": "line", "x": "date", "metric": "growth_of_1", "series": "series",
    },
    "hyperscaler_capex": {
        # Fiscal periods end on different days (Alibaba's year in March, Microsoft's in June), so
        # on a daily axis no two companies share a point and no line is drawn. By calendar year,
        # each company's latest TTM of the year (arg_max over the period end), the lines are whole.
        "title": "Hyperscaler capex, trailing twelve months (USD): each company's latest of each year",
        "kind": "line", "x": "fiscal_period_end", "metric": "capex_ttm_usd", "series": "company_name",
        "grain": "P1Y", "latest_in_grain": True,
    },
    "data_freshness": {"title": "Data freshness: what is late", "kind": "table"},
}
ROW_LIMIT = 10000


def superset_env(home: Path) -> dict[str, str]:
    return os.environ | {
        "SUPERSET_CONFIG_PATH": str(HERE / "superset_config.py"),
        "SUPERSET_HOME": str(home),
        "FLASK_APP": "superset",
        "PYTHONUNBUFFERED": "1",
    }


def initialise(home: Path, env: dict[str, str]) -> None:
    """The metadata database at the installed Superset's schema, the admin user, the roles."""
    marker = home / "initialised"
    done_for = f"apache-superset=={version('apache-superset')} admin={ADMIN_USER}"
    if marker.exists() and marker.read_text().strip() == done_for:
        return
    superset = str(BIN / "superset")
    log = home / "init.log"
    print(f"superset: initialising the metadata database in {home} (about a minute; log: {log})", flush=True)
    with log.open("w") as out:
        for args in (
            ["db", "upgrade"],
            ["fab", "create-admin", "--username", ADMIN_USER, "--password", ADMIN_PASSWORD,
             "--firstname", "Local", "--lastname", "Admin", "--email", f"{ADMIN_USER}@localhost"],
            ["init"],
        ):
            out.write(f"$ superset {' '.join(args[:2])}\n")
            out.flush()
            if subprocess.run([superset, *args], env=env, stdout=out, stderr=subprocess.STDOUT).returncode:
                sys.exit(f"superset {' '.join(args[:2])} failed: see {log}")
    marker.write_text(done_for + "\n")


def serve(host: str, port: int, env: dict[str, str], log: Path | None) -> subprocess.Popen:
    """Superset's web server: one gunicorn worker with threads (the machine has few cores)."""
    args = [
        str(BIN / "gunicorn"), "--bind", f"{host}:{port}", "--workers", "1",
        "--worker-class", "gthread", "--threads", "4", "--timeout", "120",
        "--limit-request-line", "0", "--limit-request-field_size", "0", "--no-control-socket",
        "superset.app:create_app()",
    ]
    out = log.open("a") if log else None
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)


def wait_healthy(url: str, server: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"superset: the server exited with code {server.returncode} before it answered")
        try:
            if requests.get(f"{url}/health", timeout=5).text.strip() == "OK":
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    sys.exit(f"superset: no answer from {url}/health in {timeout:.0f} s")


class Api:
    """Superset's REST API as one user: a bearer token, and the CSRF token its writes need."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url
        self.session = requests.Session()
        token = self._check(self.session.post(
            f"{url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
            timeout=60,
        ))["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self.get("/api/v1/security/csrf_token/")["result"]
        self.session.headers.update({"X-CSRFToken": csrf, "Referer": url})

    @staticmethod
    def _check(response: requests.Response) -> Any:
        if not response.ok:
            raise RuntimeError(f"{response.request.method} {response.url}: {response.status_code} {response.text[:2000]}")
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self._check(self.session.get(f"{self.url}{path}", params=params, timeout=120))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(self.session.post(f"{self.url}{path}", json=body, timeout=300))

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(self.session.put(f"{self.url}{path}", json=body, timeout=300))

    def find(self, resource: str, *filters: tuple[str, str, Any]) -> dict[str, Any] | None:
        """The first object of /api/v1/<resource>/ that passes every (column, operator, value)."""
        query = {"filters": [{"col": c, "opr": o, "value": v} for c, o, v in filters], "page_size": 100}
        result = self.get(f"/api/v1/{resource}/", q=prison.dumps(query))["result"]
        return result[0] if result else None

    def upsert(self, resource: str, existing: dict[str, Any] | None, create: dict[str, Any],
               update: dict[str, Any]) -> int:
        if existing is None:
            return self.post(f"/api/v1/{resource}/", create)["id"]
        self.put(f"/api/v1/{resource}/{existing['id']}", update)
        return existing["id"]


def database_payload(serving: Path) -> dict[str, Any]:
    """The serving copy, read-only twice over: DuckDB opens the file read_only (every connection:
    Superset's engines use NullPool, so each query opens the file anew and sees the latest
    publication), and Superset refuses DML and CREATE ... AS in SQL Lab."""
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": f"duckdb:///{serving}",
        "expose_in_sqllab": True,
        "allow_dml": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_run_async": False,
        "allow_file_upload": False,
        "extra": json.dumps({
            "engine_params": {"connect_args": {"read_only": True}},
            "allows_virtual_table_explore": True,
            "metadata_cache_timeout": {},
        }),
    }


def description(sql: str) -> str:
    """The query's leading comment, as the dataset's description."""
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].strip())
    return " ".join(lines)


def metric(column: str, latest_by: str | None = None) -> dict[str, Any]:
    if latest_by:
        return {"expressionType": "SQL", "sqlExpression": f"arg_max({column}, {latest_by})",
                "label": column, "optionName": f"metric_{column}"}
    return {"expressionType": "SIMPLE", "column": {"column_name": column}, "aggregate": "MAX",
            "label": column, "optionName": f"metric_{column}"}


def chart_definition(stem: str, dataset_id: int, columns: list[str]) -> tuple[str, str, dict, dict]:
    """slice name, viz_type, params (what Explore edits) and the saved query context (what the
    chart data API, reports and alerts run) of the chart of one analysis query."""
    spec = CHARTS.get(stem, {"title": stem.replace("_", " ").capitalize(), "kind": "table"})
    datasource = {"id": dataset_id, "type": "table"}
    base_query = {"filters": [], "extras": {"having": "", "where": ""}, "applied_time_extras": {},
                  "annotation_layers": [], "row_limit": ROW_LIMIT, "series_limit": 0,
                  "url_params": {}, "custom_params": {}, "custom_form_data": {}}
    if spec["kind"] == "line":
        x, series, grain = spec["x"], spec["series"], spec.get("grain", "P1D")
        m = metric(spec["metric"], latest_by=x if spec.get("latest_in_grain") else None)
        params = {
            "datasource": f"{dataset_id}__table", "viz_type": "echarts_timeseries_line",
            "x_axis": x, "time_grain_sqla": grain, "x_axis_sort_asc": True,
            "metrics": [m], "groupby": [series], "adhoc_filters": [], "row_limit": ROW_LIMIT,
            "truncate_metric": True, "show_legend": True, "legendType": "scroll",
            "legendOrientation": "top", "rich_tooltip": True, "tooltipTimeFormat": "smart_date",
            "x_axis_time_format": "smart_date", "y_axis_format": "SMART_NUMBER",
            "truncateXAxis": True, "y_axis_bounds": [None, None], "comparison_type": "values",
            "annotation_layers": [], "extra_form_data": {}, "dashboards": [],
        }
        query = base_query | {
            "columns": [{"timeGrain": grain, "columnType": "BASE_AXIS", "sqlExpression": x, "label": x,
                         "expressionType": "SQL"}, series],
            "metrics": [m], "orderby": [[m, False]],
            "post_processing": [
                {"operation": "pivot", "options": {"index": [x], "columns": [series],
                                                   "aggregates": {m["label"]: {"operator": "mean"}},
                                                   "drop_missing_columns": False}},
                {"operation": "rename", "options": {"columns": {m["label"]: None}, "level": 0, "inplace": True}},
                {"operation": "flatten"},
            ],
        }
        viz_type = "echarts_timeseries_line"
    else:
        params = {
            "datasource": f"{dataset_id}__table", "viz_type": "table", "query_mode": "raw",
            "all_columns": columns, "order_by_cols": [], "adhoc_filters": [], "row_limit": ROW_LIMIT,
            "server_page_length": 100, "table_timestamp_format": "smart_date",
            "show_cell_bars": False, "color_pn": True, "extra_form_data": {}, "dashboards": [],
        }
        # metrics None, not []: an empty list makes Superset GROUP BY every column (duplicates merged)
        query = base_query | {"columns": columns, "metrics": None, "orderby": [], "post_processing": []}
        viz_type = "table"
    query_context = {"datasource": datasource, "force": False, "queries": [query],
                     "form_data": params, "result_format": "json", "result_type": "full"}
    return spec["title"], viz_type, params, query_context


def dashboard_layout(charts: list[tuple[int, str]]) -> dict[str, Any]:
    """Two charts a row, in the order of the charts."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"id": "HEADER_ID", "type": "HEADER", "meta": {"text": DASHBOARD_TITLE}},
    }
    for index in range(0, len(charts), 2):
        row = f"ROW-{index // 2}"
        layout["GRID_ID"]["children"].append(row)
        layout[row] = {"type": "ROW", "id": row, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for chart_id, name in charts[index:index + 2]:
            key = f"CHART-{chart_id}"
            layout[row]["children"].append(key)
            layout[key] = {"type": "CHART", "id": key, "children": [],
                           "parents": ["ROOT_ID", "GRID_ID", row],
                           "meta": {"width": 6, "height": 60, "chartId": chart_id, "sliceName": name}}
    return layout


def analysis_queries(analysis_dir: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(analysis_dir.glob("*.sql")):
        yield path.stem, path.read_text().strip().rstrip(";")


def provision(api: Api, serving: Path, analysis_dir: Path) -> dict[str, Any]:
    """The database, one virtual dataset and chart per analysis query, the dashboard; their ids."""
    payload = database_payload(serving)
    database_id = api.upsert("database", api.find("database", ("database_name", "eq", DATABASE_NAME)),
                             payload, payload)

    dashboard = api.find("dashboard", ("slug", "eq", DASHBOARD_SLUG))
    dashboard_id = api.upsert("dashboard", dashboard,
                              {"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True},
                              {"dashboard_title": DASHBOARD_TITLE, "published": True})

    saved: dict[str, Any] = {"database_id": database_id, "dashboard_id": dashboard_id,
                             "datasets": {}, "charts": {}}
    charts: list[tuple[int, str]] = []
    for stem, sql in analysis_queries(analysis_dir):
        existing = api.find("dataset", ("table_name", "eq", stem), ("database", "rel_o_m", database_id))
        dataset_id = api.upsert(
            "dataset", existing,
            {"database": database_id, "table_name": stem, "sql": sql,
             "uuid": str(uuid.uuid5(NAMESPACE, f"dataset/{stem}"))},
            {"sql": sql, "description": description(sql)},
        )
        if existing is None:
            api.put(f"/api/v1/dataset/{dataset_id}", {"description": description(sql)})
        else:  # the query may have changed its columns: read them again
            api.put(f"/api/v1/dataset/{dataset_id}/refresh", {})
        dataset = api.get(f"/api/v1/dataset/{dataset_id}")["result"]
        columns = [column["column_name"] for column in dataset["columns"]]

        name, viz_type, params, query_context = chart_definition(stem, dataset_id, columns)
        body = {"slice_name": name, "viz_type": viz_type, "params": json.dumps(params),
                "query_context": json.dumps(query_context), "datasource_id": dataset_id,
                "datasource_type": "table", "dashboards": [dashboard_id],
                "description": f"analysis/{stem}.sql"}
        chart_uuid = str(uuid.uuid5(NAMESPACE, f"chart/{stem}"))
        chart_id = api.upsert("chart", api.find("chart", ("uuid", "eq", chart_uuid)), body | {"uuid": chart_uuid}, body)
        charts.append((chart_id, name))
        saved["datasets"][stem] = dataset_id
        saved["charts"][stem] = chart_id

    positions = dashboard_layout(charts)
    api.put(f"/api/v1/dashboard/{dashboard_id}",
            {"position_json": json.dumps(positions),
             "json_metadata": json.dumps({"positions": positions, "color_scheme": "supersetColors",
                                          "refresh_frequency": 0, "expanded_slices": {},
                                          "label_colors": {}, "timed_refresh_immune_slices": []})})
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serving", type=Path, required=True, help="the serving copy (serving.duckdb)")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--home", type=Path, default=HERE / ".home", help="metadata DB and secret key")
    parser.add_argument("--analysis", type=Path, default=REPO / "analysis")
    parser.add_argument("--server-log", type=Path, help="the server's output to this file (default: the terminal)")
    args = parser.parse_args()

    serving = args.serving.resolve()
    if not serving.is_file():
        sys.exit(f"superset: no serving copy at {serving}: build one first (make demo)")
    home = args.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = superset_env(home)
    initialise(home, env)

    with socket.socket() as probe:  # else /health could be answered by whatever holds the port
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            sys.exit(f"superset: cannot listen on {args.host}:{args.port} ({error.strerror}): "
                     "another server has it; choose another port (SUPERSET_PORT=...)")

    # Stop the server with us, whether interrupted (Ctrl-C reaches both) or terminated.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    url = f"http://{args.host}:{args.port}"
    print(f"superset: starting the server on {url}", flush=True)
    server = serve(args.host, args.port, env, args.server_log)
    try:
        wait_healthy(url, server)
        saved = provision(Api(url, ADMIN_USER, ADMIN_PASSWORD), serving, args.analysis)
        print(
            f"\nSuperset on {url}  (log in as {ADMIN_USER} / {ADMIN_PASSWORD}: a local account)\n"
            f"  database {DATABASE_NAME}: duckdb:///{serving}, read-only\n"
            f"  datasets and charts: {', '.join(saved['datasets'])}\n"
            f"  dashboard: {url}/superset/dashboard/{DASHBOARD_SLUG}/\n"
            f"  SQL Lab: {url}/sqllab/\n"
            "Ctrl-C stops it.\n",
            flush=True,
        )
        print(f"superset ready: {url} {json.dumps(saved)}", flush=True)
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
