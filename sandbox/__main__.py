"""Command line: `python -m sandbox` runs the Stripe sandbox on a loopback port."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.delivery import RetryPolicy
from sandbox.server import serve


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local Stripe stand-in: API under /v1, hosted Checkout and portal pages, "
        "signed webhooks with retries, and test controls under /_sandbox.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=12111, help="port (default 12111)")
    parser.add_argument(
        "--state",
        metavar="PATH",
        help="JSON file that keeps state across restarts (e.g. instance/sandbox.json)",
    )
    parser.add_argument(
        "--webhook-url",
        metavar="URL",
        help="forward every event to this URL (like `stripe listen --forward-to`)",
    )
    parser.add_argument(
        "--webhook-secret",
        metavar="WHSEC",
        help="signing secret for --webhook-url (generated and printed if omitted)",
    )
    parser.add_argument(
        "--public-url", metavar="URL", help="base URL of the hosted pages as a browser reaches them"
    )
    parser.add_argument(
        "--async-delay",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="delay before a delayed bank debit settles; negative waits for the "
        "settle control (default 5)",
    )
    retry = parser.add_argument_group("webhook retries (Stripe's backoff, compressed)")
    retry.add_argument("--retry-first-delay", type=float, default=0.5, metavar="SECONDS")
    retry.add_argument("--retry-factor", type=float, default=2.0)
    retry.add_argument("--retry-max-delay", type=float, default=60.0, metavar="SECONDS")
    retry.add_argument("--retry-max-attempts", type=int, default=8)
    retry.add_argument(
        "--http-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long one delivery attempt may take",
    )
    chaos = parser.add_argument_group("chaos switches (for every key; see /_sandbox/chaos)")
    chaos.add_argument("--chaos-duplicate", action="store_true", help="deliver each event twice")
    chaos.add_argument(
        "--chaos-shuffle", action="store_true", help="deliver the events of one action out of order"
    )
    chaos.add_argument(
        "--chaos-late",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay each delivery by a random time up to SECONDS",
    )
    chaos.add_argument(
        "--chaos-drop-first",
        action="store_true",
        help="drop the first attempt of each delivery (simulated network failure)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the sandbox until interrupted."""
    args = parse_args(argv)
    chaos = {
        "duplicate": args.chaos_duplicate,
        "shuffle": args.chaos_shuffle,
        "late": args.chaos_late,
        "drop_first": args.chaos_drop_first,
    }
    try:
        serve(
            args.host,
            args.port,
            public_url=args.public_url,
            state_path=args.state,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            retry=RetryPolicy(
                args.retry_first_delay,
                args.retry_factor,
                args.retry_max_delay,
                args.retry_max_attempts,
            ),
            chaos={name: value for name, value in chaos.items() if value},
            async_delay=None if args.async_delay < 0 else args.async_delay,
            http_timeout=args.http_timeout,
        )
    except ValueError as error:
        raise SystemExit(f"sandbox: {error}") from None


if __name__ == "__main__":
    main()
