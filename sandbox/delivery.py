"""Deliver events to webhook endpoints: sign each attempt afresh and retry with backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO

from sandbox.store import Account, Store

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
SAVE_EVERY = 0.5


@dataclass
class RetryPolicy:
    """Stripe's exponential backoff, compressed from days into seconds."""

    first_delay: float = 0.5
    factor: float = 2.0
    max_delay: float = 60.0
    max_attempts: int = 8

    def delay_after(self, attempts_made: int) -> float | None:
        """Return the wait before the next attempt, or None once attempts are exhausted."""
        if attempts_made >= self.max_attempts:
            return None
        return min(self.first_delay * self.factor ** (attempts_made - 1), self.max_delay)


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    """Return a `Stripe-Signature` header value for one attempt."""
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Treat a redirect as a failed delivery, as Stripe does."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> None:
        """Refuse to follow, so the 3xx status is recorded as the attempt's outcome."""
        return None


# No proxies: deliveries go to local receivers, whatever the environment says.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def post_event(url: str, payload: bytes, secret: str, timeout: float) -> dict:
    """POST one signed attempt and return what happened."""
    timestamp = int(time.time())
    request = urllib.request.Request(
        url,
        data=payload,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Stripe-Signature": signature_header(payload, secret, timestamp),
        },
    )
    outcome: dict[str, int | float | str | None] = {
        "at": time.time(),
        "timestamp": timestamp,
        "status": None,
        "error": None,
        "response": None,
    }
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            outcome["status"] = response.status
            outcome["response"] = response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as failure:
        with failure:
            outcome["status"] = failure.code
            outcome["response"] = failure.read(500).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as failure:
        outcome["error"] = str(getattr(failure, "reason", failure))
    return outcome


class Deliverer:
    """A background thread that sends due deliveries one at a time, oldest first."""

    def __init__(
        self, store: Store, policy: RetryPolicy | None = None, timeout: float = 10.0
    ) -> None:
        self.store = store
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def stop(self) -> None:
        """Stop after the attempt in flight, if any."""
        with self.store.lock:
            self._stopping = True
            self.store.changed.notify_all()
        self._thread.join(timeout=self.timeout + 1)
        self.store.flush_to_disk()

    def pending(self, key: str | None = None) -> int:
        """Count deliveries not yet succeeded or given up (for one key, or all)."""
        with self.store.lock:
            return self.store.count_unsent(key)

    def flush(self, timeout: float = 10.0, key: str | None = None) -> bool:
        """Block until nothing is left to deliver (retries included); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.store.lock:
            while self.pending(key):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.store.changed.wait(min(remaining, 0.5))
            return True

    def _next_due(self) -> tuple[tuple[Account, dict] | None, float]:
        """Return the earliest due delivery (by due time, then creation order), or None and
        how long to sleep before one falls due (at most a second)."""
        return self.store.next_due(time.time())

    def _run(self) -> None:
        """Send due deliveries until stopped; the HTTP call happens outside the lock."""
        while True:
            with self.store.lock:
                job = None
                while not self._stopping:
                    job, sleep = self._next_due()
                    if job:
                        break
                    self.store.changed.wait(max(sleep, 0.005))
                if self._stopping:
                    return
                assert job is not None  # the loop above only ends without one when stopping
                account, delivery = job
                delivery["state"] = "sending"
                endpoint = next(
                    (found for found in account.endpoints() if found["id"] == delivery["endpoint"]),
                    None,
                )
                event = account.get("event", delivery["event"])
                payload = json.dumps(event, indent=2).encode() if event else b""
                drop = delivery.get("drop_first") and not delivery["attempts"]
            if endpoint is None or event is None:
                outcome = {
                    "at": time.time(),
                    "timestamp": None,
                    "status": None,
                    "error": "endpoint removed or disabled",
                    "response": None,
                }
                final = True
            elif drop:
                outcome = {
                    "at": time.time(),
                    "timestamp": None,
                    "status": None,
                    "error": "dropped by the drop_first chaos switch",
                    "response": None,
                }
                final = False
            else:
                outcome = post_event(
                    endpoint["url"], payload, endpoint["secret"] or "", self.timeout
                )
                final = False
            self._record(delivery, outcome, final)

    def _record(self, delivery: dict, outcome: dict, final: bool) -> None:
        """Store an attempt and decide: done, retry later, or give up."""
        # A backlog is saved to disk at most twice a second, not once per delivery.
        with self.store.change(save_every=SAVE_EVERY):
            delivery["attempts"].append(outcome)
            status = outcome["status"]
            if status is not None and 200 <= status < 300:
                delivery["state"] = "succeeded"
                self.store.finish_delivery(delivery)
                return
            delay = None if final else self.policy.delay_after(len(delivery["attempts"]))
            if delay is None:
                delivery["state"] = "failed"
                self.store.finish_delivery(delivery)
            else:
                delivery["state"] = "pending"
                delivery["due"] = time.time() + delay
                owner = self.store.unsent.get(delivery["id"])
                if owner is not None:
                    self.store.queue_delivery(owner, delivery)
