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


class RenderCache(Generic[Value]):
    """Least-recently-used mapping with a hard size limit, safe to share between threads."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("A render cache needs room for at least one entry.")
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_render(self, key: Hashable, render: Callable[[], Value]) -> Value:
        """Return the cached value for key, rendering (outside the lock) when it is missing."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]
            self.misses += 1
        # Two threads may render the same key at once; both results are equal, one is kept.
        value = render()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget everything (tests, and operators who changed templates at run time)."""
        with self._lock:
            self._entries.clear()
            self.hits = 0
            self.misses = 0
