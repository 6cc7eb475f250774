"""`make bench`: every benchmark under bench/, one after the other, printing its figures."""
from __future__ import annotations

import sys

from bench import callback_latency, callback_requests, daily_post, import_time

BENCHES = [
    ("import time", import_time.main),
    ("DynamoDB requests per callback", callback_requests.main),
    ("callback latency", callback_latency.main),
    # moto's SQS slows down quadratically with a queue's length (every send re-checks every message's
    # visibility), so `make bench` runs 2,000 accounts; `python -m bench.daily_post` runs 10,000.
    ("daily-post (2,000 accounts; 10,000 with python -m bench.daily_post)", lambda argv: daily_post.main(
        ["--accounts", "2000", "--sample", "100"])),
]


def main() -> int:
    for title, run in BENCHES:
        print(f"== {title}", flush=True)
        run([])
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
