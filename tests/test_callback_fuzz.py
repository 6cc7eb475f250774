"""Property-based fuzz of the WeChat callback (a few hundred inputs here; 10,000 in `make bench`): no 5xx,
and nothing stored from an input answered 4xx. The strategy and the checks: tests/callback_fuzz.py."""
from __future__ import annotations

from tests.callback_fuzz import run

EXAMPLES = 300


def test_hostile_callbacks_never_get_a_5xx_and_store_nothing(seed):
    tally = run(seed, EXAMPLES)
    assert tally.examples >= EXAMPLES // 2
    assert not tally.server_errors, tally.server_errors[:5]
    assert not tally.stored_from_invalid, tally.stored_from_invalid[:5]
    assert sum(n for status, n in tally.statuses.items() if 400 <= status < 500) > tally.examples // 3  # hostile
    assert tally.statuses[200] > 0  # and some were valid enough to be answered
