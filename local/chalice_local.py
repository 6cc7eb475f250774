"""`chalice local --stage local` as the laptop stack runs it, with a realistic listen backlog.

Chalice's dev server is a `socketserver` HTTP server, whose listen backlog is 5: a burst of more
connections than that (a console page's parallel requests, a benchmark, a few residents at once) gets
connection resets. The stack raises it here, for the laptop only. It is still a development server, one
process; the real scale is Lambda's.

    python -m local.chalice_local --port 8000
"""
from __future__ import annotations

import argparse
import sys

from chalice import local as chalice_local

from local.quiet import quiet_laptop_logs

LISTEN_BACKLOG = 256  # capped by the kernel's net.core.somaxconn


def raise_backlog(backlog: int = LISTEN_BACKLOG) -> None:
    """Every server Chalice's dev server makes from now on listens with this backlog."""
    chalice_local.ThreadedHTTPServer.request_queue_size = backlog


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.chalice_local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--stage", default="local")
    args = parser.parse_args(argv)
    raise_backlog()
    quiet_laptop_logs()
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", "local", "--stage", args.stage, "--host", args.host, "--port", str(args.port),
                "--no-autoreload"]
    return chalice_main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
