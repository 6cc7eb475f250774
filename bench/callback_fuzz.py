"""Property-based fuzz of the WeChat callback at scale: 10,000 hypothesis inputs (tests/callback_fuzz.py)
against the demo district in moto. Goals: no 5xx, nothing stored from an input answered 4xx.

    python -m bench.callback_fuzz [examples]
"""
from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("AWS_DEFAULT_REGION", "cn-north-1")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "STAGE": "bench",
                   "ARGON2_PROFILE": "CHEAPEST", "SSM_PREFIX": "/wechat-alliance/bench", "LOG_LEVEL": "CRITICAL"})

EXAMPLES = 10_000


def run(argv: list[str] | None = None) -> list:
    """The figures (for `make bench`'s table)."""
    from bench.table import Figure

    tally, elapsed = _fuzz(argv)
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    return [Figure("hostile callbacks", f"{tally.examples} in {elapsed:.0f} s"),
            Figure("answers by status", statuses),
            Figure("5xx or exceptions", str(len(tally.server_errors)), "0", not tally.server_errors),
            Figure("stored from a 4xx input", str(len(tally.stored_from_invalid)), "0",
                   not tally.stored_from_invalid)]


def _fuzz(argv: list[str] | None):
    from moto import mock_aws

    examples = int(argv[0]) if argv else EXAMPLES
    with mock_aws():
        from chalicelib import log
        from chalicelib.queues import create_queues
        from chalicelib.store.registry import create_tables
        from local import seed as seed_module
        from tests.callback_fuzz import run

        log.configure("CRITICAL")
        create_tables()
        create_queues()
        seed = seed_module.read()
        seed_module.load(seed)
        started = time.perf_counter()
        tally = run(seed, examples)
        elapsed = time.perf_counter() - started
    return tally, elapsed


def main(argv: list[str] | None = None) -> int:
    tally, elapsed = _fuzz(argv)
    statuses = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses.items()))
    print(f"  {tally.examples} hostile callbacks in {elapsed:.1f} s ({tally.examples / elapsed:.0f}/s)")
    print(f"  answers by status: {statuses}")
    print(f"  5xx or exceptions: {len(tally.server_errors)}  goal 0  {'ok' if not tally.server_errors else 'FAIL'}")
    for line in tally.server_errors[:5]:
        print(f"    {line}")
    print(f"  stored from a 4xx input: {len(tally.stored_from_invalid)}  goal 0  "
          f"{'ok' if not tally.stored_from_invalid else 'FAIL'}")
    for line in tally.stored_from_invalid[:5]:
        print(f"    {line}")
    return 0 if not (tally.server_errors or tally.stored_from_invalid) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
