"""`make simulate [ARGS=…]`: one compressed day of the demo district against a private laptop stack.

    python -m local.simulate [--faults] [--month-end] [--residents 2000] [--clock 2026-11-30T07:30+08:00]
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from local.quiet import quiet_laptop_logs
from local.stack import ROOT


def _stop(_signum, _frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops like Ctrl-C: the private stack is stopped on the way out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make simulate ARGS=…", description=__doc__.split("\n")[0])
    parser.add_argument("--faults", action="store_true", help="inject DynamoDB, SQS and WeChat faults, kill a "
                        "queue worker mid-batch and restart the stack once")
    parser.add_argument("--month-end", action="store_true", help="run the month's bulletin after the day")
    parser.add_argument("--residents", type=int, default=2000)
    parser.add_argument("--accounts", type=int, default=None,
                        help="scale mode: a district of this many accounts (generated from the seed)")
    parser.add_argument("--clock", default=os.environ.get("LOCAL_CLOCK") or "2026-11-30T07:30+08:00")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seed", type=int, default=17, help="the random seed of the day")
    parser.add_argument("--out", default=str(ROOT / ".local" / "simulate"))
    parser.add_argument("--short", action="store_true", help="the test's version: no long WeChat time-outs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    quiet_laptop_logs()
    from local.simulate.day import Day, Options
    from local.simulate.report import terminal, write_html

    opts = Options(accounts=args.accounts, residents=args.residents, faults=args.faults, month_end=args.month_end,
                   clock=args.clock, threads=args.threads, seed=args.seed, out=Path(args.out), short=args.short)
    signal.signal(signal.SIGTERM, _stop)
    started = time.monotonic()
    result = Day(opts, log=lambda line: print(line, flush=True)).run()
    print(terminal(result))
    path = write_html(result, Path(args.out))
    print(f"report: {path} (in {time.monotonic() - started:.0f} s)")
    bulletin_ok = not result["bulletin"].get("mismatches")
    return 0 if result["lost"] == 0 and result["duplicated"] == 0 and bulletin_ok else 1


if __name__ == "__main__":
    sys.exit(main())
