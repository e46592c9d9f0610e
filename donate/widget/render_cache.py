"""A bounded in-memory cache of rendered widgets, so a page view costs one row read and a lookup.

Keys carry the goal's totals version (and the settings that change what is shown), so a new gift
makes a new key: every app instance serves fresh numbers without being told, and stale entries
simply age out of the least-recently-used end.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")

DEFAULT_MAX_ENTRIES = 1024
# No goal may hold more than this share of the cache, so readers cycling one goal's locale,
# colour and variant cannot push every other goal's renderings out.
DEFAULT_MAX_ENTRIES_PER_GROUP = 128


class RenderCache(Generic[Value]):
    """Least-recently-used mapping with a hard size limit, safe to share between threads.

    Entries belong to a group (the goal): a group past its own limit evicts its own oldest
    entry, never another group's.
    """

    def __init__(
        self,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_entries_per_group: int = DEFAULT_MAX_ENTRIES_PER_GROUP,
    ) -> None:
        if max_entries < 1 or max_entries_per_group < 1:
            raise ValueError("A render cache needs room for at least one entry.")
        self.max_entries = max_entries
        self.max_entries_per_group = min(max_entries_per_group, max_entries)
        self._entries: OrderedDict[Hashable, tuple[Hashable, Value]] = OrderedDict()
        self._groups: dict[Hashable, OrderedDict[Hashable, None]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def entries_of(self, group: Hashable) -> int:
        """How many renderings one group holds."""
        with self._lock:
            return len(self._groups.get(group, ()))

    def get_or_render(
        self, key: Hashable, render: Callable[[], Value], *, group: Hashable = None
    ) -> Value:
        """Return the cached value for key, rendering (outside the lock) when it is missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self._groups[self._entries[key][0]].move_to_end(key)
                self.hits += 1
                return self._entries[key][1]
            self.misses += 1
        # Two threads may render the same key at once; both results are equal, one is kept.
        value = render()
        with self._lock:
            self._forget(key)
            members = self._groups.setdefault(group, OrderedDict())
            while len(members) >= self.max_entries_per_group:
                self._forget(next(iter(members)))
            self._entries[key] = (group, value)
            self._groups.setdefault(group, OrderedDict())[key] = None
            while len(self._entries) > self.max_entries:
                self._forget(next(iter(self._entries)))
        return value

    def _forget(self, key: Hashable) -> None:
        """Drop one entry from the cache and from its group (the lock is held)."""
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        members = self._groups[entry[0]]
        members.pop(key, None)
        if not members:
            del self._groups[entry[0]]

    def clear(self) -> None:
        """Forget everything (tests, and operators who changed templates at run time)."""
        with self._lock:
            self._entries.clear()
            self._groups.clear()
            self.hits = 0
            self.misses = 0
