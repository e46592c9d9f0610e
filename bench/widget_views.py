"""Widget views per second over real HTTP, against a bare Flask response on the same server.

One goal holds 1,000 and then 1,000,000 donations (SQLite file, built with INSERT ... SELECT);
each variant is requested over one keep-alive connection on loopback, with the render cache
warm (as under article traffic), plus one row that renders afresh every time. The widget reads
one goal row whatever the number of donations; the goal page adds one bounded wall query. The
gzipped sizes of what a reader downloads are measured against the budgets in the same run.

Run: .venv/bin/python bench/widget_views.py [--requests N] [--sizes 1000,1000000]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from results import write_section  # noqa: E402

from donate import create_app  # noqa: E402
from donate.extensions import db  # noqa: E402
from donate.goals import GoalSettings, SiteSettings, create_goal, create_site  # noqa: E402
from donate.widget.views import frame, render_cache  # noqa: E402

SLUG = "bench-news"
# No single row may run longer than this, whatever --requests says.
SECONDS_PER_ROW = 8.0
EMBED_BUDGET = 2 * 1024
WIDGET_BUDGET = 10 * 1024

ROWS = [
    ("bare Flask response", "/bench/bare", {}),
    ("embed.js", "/embed.js", {}),
    ("full widget /w/SLUG", f"/w/{SLUG}?locale=en", {}),
    ("full widget, 304 revalidation", f"/w/{SLUG}?locale=en", {"revalidate": True}),
    ("full widget, rendered afresh", f"/bench/cold/{SLUG}?locale=en", {}),
    ("bar only", f"/w/{SLUG}?variant=bar&locale=de", {}),
    ("progress.svg", f"/w/{SLUG}/progress.svg?locale=en", {}),
    ("progress.png", f"/w/{SLUG}/progress.png?locale=en", {}),
    ("goal page /g/SLUG (+ wall query)", f"/g/{SLUG}?locale=en", {}),
]
SIZE_ROWS = [
    ("embed.js", "/embed.js", EMBED_BUDGET),
    ("full widget, en", f"/w/{SLUG}?locale=en", WIDGET_BUDGET),
    ("full widget, de, thank-you state", f"/w/{SLUG}?locale=de&thanks=1", WIDGET_BUDGET),
    ("bar only", f"/w/{SLUG}?variant=bar", WIDGET_BUDGET),
    ("button", f"/w/{SLUG}?variant=button", WIDGET_BUDGET),
    ("goal page", f"/g/{SLUG}", None),
    ("progress.svg", f"/w/{SLUG}/progress.svg", None),
    ("progress.png", f"/w/{SLUG}/progress.png", None),
]


class _KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive and no log line per request, as a client behind a CDN sees."""

    protocol_version = "HTTP/1.1"

    def log(self, *_args: object) -> None:
        pass


def build_app(url: str):  # noqa: ANN201
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "PUBLIC_URL": "http://127.0.0.1:5000",
            "RATELIMIT_STORAGE_URI": "memory://",
            "TESTING": False,
        }
    )

    @app.get("/bench/bare")
    def bare() -> str:
        return "ok"

    @app.get("/bench/cold/<slug>")
    def cold(slug: str):  # noqa: ANN202
        render_cache().clear()
        return frame(slug)

    return app


def seed(app, donations: int) -> None:  # noqa: ANN001
    """One site, one goal, `donations` succeeded gifts; totals as the ledger would leave them."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        site = create_site(
            SiteSettings(name="Bench Gazette", allowed_origins=["http://localhost:*"])
        )
        goal = create_goal(
            site,
            GoalSettings(
                slug=SLUG,
                title="Keep local news free to read",
                description="Our reporters cover the council, the schools and the courts.",
                currency="USD",
                target_minor=donations * 3_000,
                presets_minor=[1_000, 2_500, 5_000, 10_000],
                minimum_minor=500,
                maximum_minor=1_000_000,
                monthly_enabled=True,
                milestones_minor=[donations * 1_000, donations * 2_000],
            ),
        )
        db.session.commit()
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        db.session.execute(
            sa.text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                "INSERT INTO donations (goal_id, amount_minor, currency, kind, state,"
                " refunded_minor, disputed_minor, anonymous, message_hidden, public_name,"
                " public_message, donor_key, created_at, settled_at, state_cause) "
                "SELECT :goal, 1000 + (i % 50) * 100, 'USD', 'one_time', 'succeeded', 0, 0,"
                " i % 3 = 0, i % 7 = 0, 'Donor ' || i,"
                " CASE WHEN i % 5 = 0 THEN 'Keep going!' END, 'bench:' || i, :now, :now, 'bench'"
                " FROM n"
            ),
            {"count": donations, "goal": goal.id, "now": now},
        )
        db.session.execute(
            sa.text(
                "UPDATE goals SET raised_minor = (SELECT sum(amount_minor) FROM donations),"
                " donation_count = :count, donor_count = :count, totals_version = 1"
                " WHERE id = :goal"
            ),
            {"count": donations, "goal": goal.id},
        )
        db.session.commit()
        db.session.remove()


def measure(port: int, path: str, requests: int, revalidate: bool) -> tuple[float, int]:
    """Requests per second over one keep-alive connection, bounded in count and time."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Language": "en"}
    connection.request("GET", path, headers=headers)
    first = connection.getresponse()
    first.read()
    if revalidate:
        headers["If-None-Match"] = first.headers["ETag"]
    done, status, started = 0, first.status, time.perf_counter()
    while done < requests and time.perf_counter() - started < SECONDS_PER_ROW:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        status = response.status
        done += 1
    elapsed = time.perf_counter() - started
    connection.close()
    return done / elapsed, status


def run_size(donations: int, requests: int) -> tuple[list[tuple[str, float, int]], dict]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        app = build_app(url)
        started = time.perf_counter()
        seed(app, donations)
        print(f"  seeded {donations:,} donations in {time.perf_counter() - started:.1f} s")
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_KeepAliveHandler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            rows = []
            for label, path, options in ROWS:
                rate, status = measure(
                    server.server_port, path, requests, options.get("revalidate", False)
                )
                rows.append((label, rate, status))
                print(f"  {label:<36} {rate:>8,.0f} req/s  (HTTP {status})")
            sizes = {}
            client = app.test_client()
            for label, path, budget in SIZE_ROWS:
                body = client.get(path, headers={"Accept-Language": "en"}).data
                sizes[label] = (len(body), len(gzip.compress(body, 9)), budget)
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()
        return rows, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="requests per row (bounded)")
    parser.add_argument("--sizes", default="1000,1000000", help="donation counts to measure")
    args = parser.parse_args()
    counts = [int(part) for part in args.sizes.split(",") if part.strip()]

    results: dict[int, list[tuple[str, float, int]]] = {}
    sizes: dict = {}
    for count in counts:
        print(f"{count:,} donations")
        results[count], sizes = run_size(count, args.requests)

    header = "| view | " + " | ".join(f"{c:,} donations (req/s)" for c in counts)
    header += " | vs bare |\n|---|" + "---:|" * (len(counts) + 1) + "\n"
    lines = []
    for index, (label, _path, _options) in enumerate(ROWS):
        rates = [results[c][index][1] for c in counts]
        bare = results[counts[-1]][0][1]
        lines.append(
            f"| {label} | "
            + " | ".join(f"{rate:,.0f}" for rate in rates)
            + f" | {rates[-1] / bare:.2f} |"
        )
    size_lines = [
        f"| {label} | {raw:,} | {zipped:,} | "
        + (f"{budget:,} ({'within' if zipped <= budget else 'OVER'})" if budget else "-")
        + " |"
        for label, (raw, zipped, budget) in sizes.items()
    ]
    table = header + "\n".join(lines)
    size_table = "| response | bytes | gzipped (-9) | budget |\n|---|---:|---:|---|\n"
    size_table += "\n".join(size_lines)
    print()
    print(table)
    print()
    print(size_table)
    write_section(
        "Widget views per second",
        f"Werkzeug's threaded server on loopback, one keep-alive client, {args.requests:,} "
        "requests per row (at most "
        f"{SECONDS_PER_ROW:.0f} s), SQLite file, render cache warm except where it says "
        'afresh. The bare row is a Flask view returning "ok" on the same server in the same '
        'run; "vs bare" compares the largest database. Production serves through gunicorn '
        "behind a CDN, which absorbs most of these requests. Absolute figures vary with the "
        "machine's other load; compare rows of one run.\n\n"
        + table
        + "\n\nGzipped sizes (what a reader downloads; budgets from the widget issue):\n\n"
        + size_table,
    )


if __name__ == "__main__":
    main()
