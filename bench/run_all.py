"""`make bench`: every benchmark under bench/, one after the other, printing its figures."""
from __future__ import annotations

import sys

from bench import import_time

BENCHES = [("import time", import_time.main)]


def main() -> int:
    for title, run in BENCHES:
        print(f"== {title}")
        run([])
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
