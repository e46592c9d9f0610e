"""Password-reset requests for known and unknown addresses: the same work, so the same time.

A reset request only queues "reset requested" for the typed address; the worker looks it up and
mails the link later. This script times the request itself (in-process test client, SQLite
file, CSRF and rate limits off so only the view is measured) for an address with an account and
one without, interleaved, and prints the medians. For comparison it also times what the request
used to do for a known address: look it up, sign a token and hand the mail to an SMTP server
(aiosmtpd on loopback, so the real round trip to a remote server would be longer still).

Run: .venv/bin/python bench/reset_timing.py [--requests N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from results import write_section  # noqa: E402

from donate import create_app, mail  # noqa: E402
from donate.accounts import create_user  # noqa: E402
from donate.admin.passwords import reset_letter  # noqa: E402
from donate.extensions import db  # noqa: E402
from donate.outbox.letters import as_email  # noqa: E402
from donate.outbox.queue import new_message_id  # noqa: E402

KNOWN = "known@example.org"
UNKNOWN = "nobody@example.org"


def _millis(samples: list[float]) -> tuple[str, str]:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    return f"{statistics.median(samples) * 1000:.2f}", f"{p90 * 1000:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests per address")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="donate-reset-bench-"))
    app = create_app(
        {
            "DONATE_ENV": "test",
            "TESTING": True,
            "SECRET_KEY": "bench-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "PUBLIC_URL": "http://127.0.0.1:5000",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        create_user(KNOWN, "a long enough password", name="Known")
        db.session.commit()
    client = app.test_client()
    timings: dict[str, list[float]] = {KNOWN: [], UNKNOWN: []}
    for _ in range(20):  # warm up templates, connections and caches
        for address in timings:
            client.post("/admin/reset-password", data={"email": address})
    for _ in range(args.requests):
        for address in (KNOWN, UNKNOWN):
            started = time.perf_counter()
            response = client.post("/admin/reset-password", data={"email": address})
            timings[address].append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    before = _time_sending_in_the_request(app, min(args.requests, 100))

    known_median, known_p90 = _millis(timings[KNOWN])
    unknown_median, unknown_p90 = _millis(timings[UNKNOWN])
    gap = statistics.median(timings[KNOWN]) - statistics.median(timings[UNKNOWN])
    before_median, before_p90 = _millis(before)
    body = (
        f"POST /admin/reset-password in-process (Flask test client, SQLite file, CSRF and rate "
        f"limits off), {args.requests} requests per address, interleaved. The request queues "
        f'"reset requested" and nothing else; the worker does the lookup and the mail.\n\n'
        "| request | median (ms) | p90 (ms) |\n|---|---:|---:|\n"
        f"| address with an account | {known_median} | {known_p90} |\n"
        f"| address without one | {unknown_median} | {unknown_p90} |\n"
        f"| difference of the medians | {gap * 1000:+.2f} | |\n"
        f"| for comparison, the old in-request work for a known address "
        f"(lookup, token, SMTP to aiosmtpd on loopback; {len(before)} runs) "
        f"| {before_median} | {before_p90} |\n"
    )
    print(body)
    write_section("Password-reset requests: known and unknown addresses", body)


def _time_sending_in_the_request(app: Flask, count: int) -> list[float]:
    """What a known address used to cost inside the request: lookup, token, SMTP."""
    import socket

    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False)
    samples = []
    try:
        with app.test_request_context():
            for _ in range(count):
                started = time.perf_counter()
                letter = reset_letter(KNOWN)
                assert letter is not None
                mail.deliver(as_email(letter, new_message_id()))
                samples.append(time.perf_counter() - started)
                db.session.rollback()
    finally:
        controller.stop()
    return samples


if __name__ == "__main__":
    main()
