"""`make bench`: every benchmark under bench/, one after the other, and one table of their figures.

The platform's JSON log lines and the benchmarks' details go to `.local/bench.log` (LOCAL_DIR), not
between the figures. A running laptop stack (found through `.local/stack.env`) is named and left alone:
the benchmarks start their own private endpoints on free ports, so its data stay as they are and its
load does not skew the figures.
"""
from __future__ import annotations

import contextlib
import logging
import sys
import time

from bench import callback_fuzz, callback_latency, callback_requests, daily_post, import_time, monthly_bulletin, scale
from bench.table import render
from local.quiet import quiet_laptop_logs
from local.stack import StackNotRunning, attach_env, local_dir

BENCHES = [
    ("import time", import_time.run),
    ("DynamoDB requests per callback", callback_requests.run),
    ("callback latency through chalice local", callback_latency.run),
    ("callback fuzz (hypothesis, 10,000 inputs)", callback_fuzz.run),
    # moto's SQS sends cost O(queue length) each; the benchmarks' moto is patched to linear
    # (local.aws_endpoint.linear_sqs_sends), so daily-post runs at 10,000 accounts.
    ("daily-post (10,000 accounts, sharded fan-out)",
     lambda argv: daily_post.run(["--accounts", "10000", "--sample", "100"])),
    ("scale: lists, fan-out, matrix, first callback (66 and 10,000 accounts)", scale.run),
    # monthly-bulletin and the overview's first page at 66 and 10,000 accounts: the 10,000-account district
    # (600,000 daily items) is written in ~5 minutes and the job runs in ~12 on the laptop's moto, whose
    # Query now reads its partition by key (local.aws_endpoint.indexed_dynamodb_queries).
    ("monthly-bulletin and overview (66 and 10,000 accounts)",
     lambda argv: monthly_bulletin.run(["--accounts", "66", "10000"])),
]


def main() -> int:
    out = sys.stdout
    folder = local_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "bench.log"
    log_file = open(log_path, "a", encoding="utf-8")  # noqa: SIM115 - closed at the end
    logging.basicConfig(level=logging.INFO, stream=log_file, format="%(asctime)s %(name)s %(message)s", force=True)
    quiet_laptop_logs()
    try:
        running = attach_env()
        print(f"a laptop stack is running at {running.get('PLATFORM_URL')} (.local/stack.env): left alone, the "
              "benchmarks use private endpoints", file=out)
    except StackNotRunning:
        pass
    print(f"details and log lines: {log_path}", file=out, flush=True)
    sections = []
    for title, run in BENCHES:
        print(f"  running: {title} …", file=out, flush=True)
        started = time.perf_counter()
        with contextlib.redirect_stdout(log_file):  # the platform logs JSON lines to stdout
            figures = run([])
        log_file.flush()
        print(f"  done in {time.perf_counter() - started:.0f} s", file=out, flush=True)
        sections.append((title, figures))
    print(file=out)
    print(render(sections), file=out)
    over = [f.name for _, figures in sections for f in figures if f.ok is False]
    print("\nall figures within their goals" if not over else f"\nOVER GOAL: {', '.join(over)}", file=out)
    log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
