"""Keep the sandbox's state per API key, behind one lock, saved as JSON after each change."""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from sandbox import objects
from sandbox.errors import no_such

# The version events carry until a client's Stripe-Version header pins the account's own.
DEFAULT_API_VERSION = "2025-03-31.basil"
FORWARD_ENDPOINT_ID = "we_sandbox_forward"
CHAOS_DEFAULTS = {"duplicate": False, "shuffle": False, "late": 0.0, "drop_first": False}
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_MAX = 5000


class Account:
    """One API key's objects, events, deliveries and idempotency records."""

    def __init__(self, store: Store, data: dict) -> None:
        self.store = store
        self.data = data

    @property
    def key(self) -> str:
        """The secret key this account belongs to."""
        return self.data["key"]

    @property
    def api_version(self) -> str:
        """The version stamped on this account's events."""
        return self.data.get("api_version") or DEFAULT_API_VERSION

    def pin_api_version(self, version: str | None) -> None:
        """Pin the account's version to the first one a client sends, as Stripe does."""
        if version and not self.data.get("api_version"):
            self.data["api_version"] = version

    def get(self, kind: str, object_id: object) -> dict | None:
        """Return the stored object or None."""
        if not isinstance(object_id, str):
            return None
        return self.data["objects"].get(kind, {}).get(object_id)

    def require(self, kind: str, object_id: object, param: str = "id") -> dict:
        """Return the stored object or raise Stripe's 404."""
        found = self.get(kind, object_id)
        if found is None:
            raise no_such(kind, str(object_id), param)
        return found

    def put(self, obj: dict) -> dict:
        """Store (or replace) an object under its type and id."""
        self.data["objects"].setdefault(obj["object"], {})[obj["id"]] = obj
        self.store.index[obj["id"]] = self.key
        return obj

    def all(self, kind: str) -> list[dict]:
        """Return every stored object of a type, oldest first."""
        return list(self.data["objects"].get(kind, {}).values())

    def private(self, object_id: str) -> dict:
        """Return sandbox-only data kept beside an object (never sent to clients)."""
        return self.data["private"].setdefault(object_id, {})

    def emit(
        self, event_type: str, obj: dict, previous: dict | None = None, request: dict | None = None
    ) -> dict:
        """Record an event about `obj` and queue it for every endpoint that wants it."""
        return self.store.emit(self, event_type, obj, previous, request)

    def endpoints(self) -> list[dict]:
        """Return the enabled endpoints (API-created and the forwarding one) with secrets."""
        found = []
        for endpoint in self.all("webhook_endpoint"):
            if endpoint.get("status") == "enabled":
                found.append(
                    {
                        "id": endpoint["id"],
                        "url": endpoint["url"],
                        "secret": self.private(endpoint["id"]).get("secret"),
                        "enabled_events": endpoint.get("enabled_events") or [],
                    }
                )
        found.extend(self.store.forward_endpoints)
        return found

    def chaos(self) -> dict:
        """Return the chaos switches in force: the account's own over the global ones."""
        merged = dict(CHAOS_DEFAULTS)
        merged.update(self.store.state["chaos"])
        merged.update(self.data.get("chaos") or {})
        return merged


class Store:
    """All accounts, the lock that guards them, and their JSON file."""

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        forward_url: str | None = None,
        forward_secret: str | None = None,
        chaos: dict | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.path = Path(path) if path else None
        self.index: dict[str, str] = {}
        # Deliveries still to send, by id → API key, so the sender never scans the history,
        # and a heap of (due, seq, id) so it finds the next one without scanning the backlog.
        self.unsent: dict[str, str] = {}
        self._due: list[tuple[float, int, str]] = []
        self._last_save = 0.0
        self._dirty = False
        self._batch: list[tuple[Account, dict, list[str]]] = []
        self._depth = 0
        self.forward_endpoints: list[dict] = []
        if forward_url:
            self.forward_endpoints.append(
                {
                    "id": FORWARD_ENDPOINT_ID,
                    "url": forward_url,
                    "secret": forward_secret,
                    "enabled_events": ["*"],
                }
            )
        self.state: dict = {
            "format": 1,
            "accounts": {},
            "chaos": {},
            "sequence": 0,
            "clock_offset": 0,
        }
        self._load()
        if chaos:
            self.state["chaos"].update(chaos)

    # --- simulated time ----------------------------------------------------

    @property
    def clock_offset(self) -> int:
        """Seconds the simulated clock runs ahead of the wall clock."""
        return int(self.state.get("clock_offset") or 0)

    def use_clock(self) -> None:
        """Make `objects.now()` in this thread read this store's simulated clock."""
        objects.use_clock(self.clock_offset)

    def advance_clock(self, seconds: int) -> None:
        """Move simulated time forward (never back)."""
        self.state["clock_offset"] = self.clock_offset + max(int(seconds), 0)
        self.use_clock()

    # --- accounts ----------------------------------------------------------

    def account(self, key: str) -> Account:
        """Return the account of an API key, creating it on first use."""
        data = self.state["accounts"].get(key)
        if data is None:
            data = {
                "key": key,
                "api_version": None,
                "objects": {},
                "private": {},
                "idempotency": {},
                "deliveries": {},
                "chaos": {},
            }
            self.state["accounts"][key] = data
        return Account(self, data)

    def accounts(self) -> list[Account]:
        """Return every account, in the order they first appeared."""
        return [Account(self, data) for data in self.state["accounts"].values()]

    def owner(self, object_id: str) -> Account | None:
        """Return the account that holds an object id (pages and controls carry no key)."""
        key = self.index.get(object_id)
        if key is None or key not in self.state["accounts"]:
            return None
        return Account(self, self.state["accounts"][key])

    def flush_to_disk(self) -> None:
        """Write state skipped by throttled saves (on stop)."""
        with self.lock:
            if self._dirty:
                self.save()

    def reset(self, key: str | None) -> None:
        """Forget one account (or all of them when key is None)."""
        if key is None:
            self.state["accounts"].clear()
        else:
            self.state["accounts"].pop(key, None)
        self.unsent = {
            delivery_id: owner
            for delivery_id, owner in self.unsent.items()
            if owner in self.state["accounts"]
        }
        self._reindex()

    def unsent_deliveries(self, key: str | None = None) -> list[tuple[Account, dict]]:
        """Return deliveries not yet succeeded or given up (for one key, or all)."""
        found = []
        for delivery_id, owner in list(self.unsent.items()):
            data = self.state["accounts"].get(owner)
            delivery = data["deliveries"].get(delivery_id) if data else None
            if delivery is None or delivery["state"] not in ("pending", "sending"):
                del self.unsent[delivery_id]
            elif key is None or owner == key:
                found.append((Account(self, data), delivery))
        return found

    def count_unsent(self, key: str | None = None) -> int:
        """Count deliveries still to send without walking them (for one key, or all)."""
        if key is None:
            return len(self.unsent)
        return sum(1 for owner in self.unsent.values() if owner == key)

    def queue_delivery(self, key: str, delivery: dict) -> None:
        """Put a pending delivery on the due-time heap."""
        self.unsent[delivery["id"]] = key
        heapq.heappush(self._due, (delivery["due"], delivery["seq"], delivery["id"]))

    def finish_delivery(self, delivery: dict) -> None:
        """Forget a delivery that succeeded or was given up."""
        self.unsent.pop(delivery["id"], None)

    def next_due(self, moment: float) -> tuple[tuple[Account, dict] | None, float]:
        """Return the earliest due pending delivery, or None and the seconds until one is due.

        Heap entries whose delivery was rescheduled, finished or reset are dropped on the way.
        """
        while self._due:
            due, _, delivery_id = self._due[0]
            owner = self.unsent.get(delivery_id)
            data = self.state["accounts"].get(owner) if owner else None
            delivery = data["deliveries"].get(delivery_id) if data else None
            if (
                data is None
                or delivery is None
                or delivery["state"] != "pending"
                or delivery["due"] != due
            ):
                heapq.heappop(self._due)
                if delivery is None or delivery["state"] not in ("pending", "sending"):
                    self.unsent.pop(delivery_id, None)
                continue
            if due > moment:
                return None, min(due - moment, 1.0)
            heapq.heappop(self._due)
            return (Account(self, data), delivery), 0.0
        return None, 1.0

    # --- changes -----------------------------------------------------------

    @contextlib.contextmanager
    def change(self, save_every: float = 0.0) -> Iterator[None]:
        """Hold the lock for one change; on success schedule its events and persist."""
        with self.lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._schedule()
                    self.save(save_every)
                    self.changed.notify_all()

    def next_sequence(self) -> int:
        """Return a number that orders deliveries across accounts."""
        self.state["sequence"] += 1
        return self.state["sequence"]

    def emit(
        self,
        account: Account,
        event_type: str,
        obj: dict,
        previous: dict | None,
        request: dict | None,
    ) -> dict:
        """Record an event and remember which endpoints must receive it."""
        targets = [
            endpoint["id"]
            for endpoint in account.endpoints()
            if "*" in endpoint["enabled_events"] or event_type in endpoint["enabled_events"]
        ]
        event = objects.build_event(
            event_type, obj, account.api_version, previous, request, len(targets)
        )
        account.put(event)
        self._batch.append((account, event, targets))
        return event

    def _schedule(self) -> None:
        """Turn the events of the finished change into deliveries, applying chaos switches."""
        batch, self._batch = self._batch, []
        by_account: dict[str, list] = {}
        for account, event, targets in batch:
            chaos = account.chaos()
            for endpoint_id in targets:
                copies = 2 if chaos["duplicate"] else 1
                for copy_number in range(1, copies + 1):
                    by_account.setdefault(account.key, []).append(
                        (account, chaos, event["id"], endpoint_id, copy_number)
                    )
        for pending in by_account.values():
            if pending and pending[0][1]["shuffle"]:
                random.shuffle(pending)
            for account, chaos, event_id, endpoint_id, copy_number in pending:
                delay = random.uniform(0, float(chaos["late"])) if chaos["late"] else 0.0
                delivery_id = objects.new_id("whd_")
                account.data["deliveries"][delivery_id] = {
                    "id": delivery_id,
                    "event": event_id,
                    "endpoint": endpoint_id,
                    "copy": copy_number,
                    "seq": self.next_sequence(),
                    "due": time.time() + delay,
                    "state": "pending",
                    "attempts": [],
                    "drop_first": bool(chaos["drop_first"]),
                }
                self.queue_delivery(account.key, account.data["deliveries"][delivery_id])

    # --- idempotency -------------------------------------------------------

    def remember(self, account: Account, key: str, record: dict) -> None:
        """Keep an idempotent request's outcome, dropping records older than Stripe's 24 h."""
        records = account.data["idempotency"]
        records[key] = record
        cutoff = time.time() - IDEMPOTENCY_TTL
        stale = [name for name, kept in records.items() if kept["created"] < cutoff]
        for name in stale:
            del records[name]
        while len(records) > IDEMPOTENCY_MAX:
            del records[next(iter(records))]

    # --- persistence -------------------------------------------------------

    def save(self, at_most_every: float = 0.0) -> None:
        """Write the whole state atomically, so a crash never leaves half a file.

        `at_most_every` skips the write when the last one is more recent (delivery records
        during a backlog); the next change or `save()` writes everything.
        """
        if self.path is None:
            return
        moment = time.monotonic()
        if at_most_every and moment - self._last_save < at_most_every:
            self._dirty = True
            return
        self._last_save = moment
        self._dirty = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(json.dumps(self.state, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, self.path)

    def _load(self) -> None:
        """Reload a saved state; deliveries cut off mid-attempt are retried."""
        if self.path is None or not self.path.exists():
            return
        loaded = json.loads(self.path.read_text(encoding="utf-8"))
        if loaded.get("format") != 1:
            raise ValueError(f"{self.path} is not a sandbox state file this version can read")
        self.state = loaded
        self.state.setdefault("chaos", {})
        for key, data in self.state["accounts"].items():
            for delivery in data["deliveries"].values():
                if delivery["state"] == "sending":
                    delivery["state"] = "pending"
                if delivery["state"] == "pending":
                    self.queue_delivery(key, delivery)
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the id → API key index."""
        self.index = {
            object_id: key
            for key, data in self.state["accounts"].items()
            for collection in data["objects"].values()
            for object_id in collection
        }
