"""`make bench`: every benchmark under bench/, one after the other, printing its figures."""
from __future__ import annotations

import sys

from bench import callback_latency, callback_requests, daily_post, import_time

BENCHES = [
    ("import time", import_time.main),
    ("DynamoDB requests per callback", callback_requests.main),
    ("callback latency", callback_latency.main),
    ("daily-post at 10,000 accounts", daily_post.main),
]


def main() -> int:
    for title, run in BENCHES:
        print(f"== {title}", flush=True)
        run([])
        print(flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
