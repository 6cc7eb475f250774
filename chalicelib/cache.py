"""Per-container caches (no heavy imports: the authorizer and scope use them too)."""
from __future__ import annotations

import time


class ContainerCache:
    """A per-container cache whose entries live `seconds`: directory data that staff rarely change.

    Every Lambda copy keeps its own; a change reaches all copies within `seconds`.
    """

    def __init__(self, seconds: float, clock=None):

        self._seconds = seconds
        self._clock = clock or time.monotonic
        self._entries: dict = {}

    def get(self, key, load):
        now = self._clock()
        hit = self._entries.get(key)
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        value = load()
        self._entries[key] = (now, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
