"""Measure how fast the Stripe sandbox drains a backlog of queued webhook events.

Queues N events at once for a local receiver that answers 200 at once, then times how long the
sandbox takes to deliver them all. With `--baseline REF` the same measurement also runs against
the sandbox as it was at that git revision (extracted to a temporary folder), and the table
shows both.

    .venv/bin/python bench/sandbox_backlog.py --events 5000 --state --baseline da68a63
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Receiver(BaseHTTPRequestHandler):
    """Answer every delivery 200 without looking at it."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def measure(events: int, timeout: float, state_path: str | None = None) -> dict:
    """Queue `events` events in one change and time their delivery (runs in this process)."""
    from sandbox import RetryPolicy, start_in_thread

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.server_port}/webhook"
    handle = start_in_thread(
        webhook_url=url,
        webhook_secret="whsec_bench",
        state_path=state_path,
        retry=RetryPolicy(first_delay=0.05, max_attempts=3),
        async_delay=None,
    )
    try:
        store = handle.store
        with store.change():
            account = store.account("sk_test_bench")
            customer = {"object": "customer", "id": "cus_bench", "email": "a@example.org"}
            for _ in range(events):
                account.emit("customer.updated", customer)
        started = time.perf_counter()
        cpu_started = time.process_time()
        drained = handle.flush(timeout=timeout)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        with store.lock:
            left = len(store.unsent_deliveries())
    finally:
        handle.stop()
        server.shutdown()
        server.server_close()
    delivered = events - left
    return {
        "events": events,
        "delivered": delivered,
        "drained": drained,
        "seconds": round(elapsed, 2),
        "events_per_s": round(delivered / elapsed, 1),
        "cpu_s": round(cpu, 2),
    }


def run_in(path: Path, events: int, timeout: float, state: bool) -> dict:
    """Run `measure` in a fresh interpreter whose `sandbox` package comes from `path`."""
    env = {**os.environ, "PYTHONPATH": str(path)}
    done = subprocess.run(
        [sys.executable, __file__, "--child", "--events", str(events), "--timeout", str(timeout)]
        + (["--state"] if state else []),
        cwd=path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print a table: backlog size, delivered, seconds, events/s, CPU seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events",
        type=int,
        action="append",
        help="backlog size (repeatable; default 1000 and 5000)",
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="give up draining after this many seconds"
    )
    parser.add_argument("--baseline", help="git revision to compare against")
    parser.add_argument(
        "--state", action="store_true", help="also keep a --state file, as the demo server does"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.events or [1000, 5000]
    if args.child:
        with tempfile.TemporaryDirectory() as folder:
            state_path = str(Path(folder) / "sandbox.json") if args.state else None
            print(json.dumps(measure(sizes[0], args.timeout, state_path)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        versions = [("this tree", ROOT)]
        if args.baseline:
            archive = subprocess.run(
                ["git", "archive", args.baseline, "sandbox"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
            versions.insert(0, (f"at {args.baseline}", Path(folder)))
        for label, path in versions:
            for size in sizes:
                for state in [False, True] if args.state else [False]:
                    rows.append(
                        {
                            "sandbox": label,
                            "state_file": "yes" if state else "no",
                            **run_in(path, size, args.timeout, state),
                        }
                    )
    header = ["sandbox", "state_file", "events", "delivered", "seconds", "events_per_s", "cpu_s"]
    widths = [max(len(h), *(len(str(row[h])) for row in rows)) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[h]).ljust(w) for h, w in zip(header, widths, strict=True)))


if __name__ == "__main__":
    main()
