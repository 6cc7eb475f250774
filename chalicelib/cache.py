"""Per-container caches (no heavy imports: the authorizer and scope use them too)."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict

DEFAULT_MAX_ENTRIES = 2048
DEFAULT_MISS_SECONDS = 10.0


class ContainerCache:
    """A per-container cache (容器缓存) whose entries live `seconds`: directory data that staff rarely change.

    Every Lambda copy keeps its own; a change reaches all copies within `seconds`. Bounded: at most
    `max_entries`, the least recently used going first, so requests for random ids cannot grow the
    process; a load that finds nothing (None: an unknown id) is kept only `miss_seconds`, so a new
    account or canteen is seen soon and misses do not crowd out the directory.
    """

    def __init__(self, seconds: float, clock=None, max_entries: int = DEFAULT_MAX_ENTRIES,
                 miss_seconds: float = DEFAULT_MISS_SECONDS):

        self._seconds = seconds
        self._miss_seconds = min(miss_seconds, seconds)
        self._max = max(1, max_entries)
        self._clock = clock or time.monotonic
        self._entries: OrderedDict = OrderedDict()  # key -> (expires at, value), least recently used first
        self._lock = threading.Lock()

    def get(self, key, load):
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                if now < hit[0]:
                    self._entries.move_to_end(key)
                    return hit[1]
                del self._entries[key]
        value = load()
        self._keep(key, value, now)
        return value

    def peek(self, key):
        """The entry's value if it has not expired, else None; never loads."""
        with self._lock:
            hit = self._entries.get(key)
        return hit[1] if hit is not None and self._clock() < hit[0] else None

    def put(self, key, value) -> None:
        """Keep `value` for `key` as a load would have (a read that brought it along with another)."""
        self._keep(key, value, self._clock())

    def _keep(self, key, value, now: float) -> None:
        lifetime = self._miss_seconds if value is None else self._seconds
        with self._lock:
            self._entries[key] = (now + lifetime, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget(self, key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
