"""`make report`: the dashboard's charts as one static HTML file (scripts inline, no network
needed to open it) and a PNG per chart, under reports/."""

from __future__ import annotations

import argparse
import html
from pathlib import Path

from dashboard.charts import charts, default_as_of, load, peers, series_ends_caption


def write_report(serving_path: Path, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = load(serving_path)
    as_of = default_as_of(frames)  # the dashboard's default view: the latest day every series has data
    rendered = charts(frames, peers(serving_path, as_of), as_of)
    sections = []
    for name, chart in rendered.items():
        chart.save(out_dir / f"{name}.png", scale_factor=1.5)
        # inline=True embeds vega, vega-lite and vega-embed in the page: it opens offline
        sections.append(f'<section id="{name}">{chart.to_html(inline=True, fullhtml=False)}</section>')
    freshness = frames["data_freshness"].to_html(index=False, border=0, classes="freshness")
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Is the market re-rating Chinese tech?</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1000px}} table.freshness{{border-collapse:collapse;font-size:12px}}
table.freshness td,table.freshness th{{padding:2px 8px;border-bottom:1px solid #ddd}}</style></head>
<body><h1>Is the market re-rating Chinese tech against the US megacaps?</h1>
<p>From {html.escape(str(serving_path.name))}, as of {as_of}; every figure comes from the warehouse's marts.
{html.escape(series_ends_caption(frames))}.</p>
{''.join(sections)}
<h2>Data freshness</h2>{freshness}
</body></html>"""
    index = out_dir / "index.html"
    index.write_text(page)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serving", type=Path, default=Path("warehouse/serving.duckdb"))
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    print(f"wrote {write_report(args.serving, args.out)}")


if __name__ == "__main__":
    main()
