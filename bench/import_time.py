"""Cold import of `app` (what a Lambda cold start pays before the first request) against importing the
big libraries alone. Each time is the median of fresh interpreter processes; where valgrind is installed the
goal is checked in instructions (callgrind), which a busy machine does not disturb as it does wall time.

    python -m bench.import_time [--runs 15] [--counts 3]
"""
from __future__ import annotations

import argparse
import compileall
import logging
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import sys
from pathlib import Path

from bench.table import Figure, render

ROOT = Path(__file__).resolve().parent.parent
LOG = logging.getLogger("bench.import_time")
CASES = {
    "app": "import app",
    "chalice + botocore + pynamodb": "import chalice.app, botocore.session, pynamodb.models",
    "chalice + botocore + pynamodb + wechatpy": "import chalice.app, botocore.session, pynamodb.models, wechatpy",
}
PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def measure(stmt: str, runs: int, bytecode: bool = True) -> float:
    # With bytecode, as `make package` ships it (tools/precompile.py); PYTHONDONTWRITEBYTECODE, set to
    # anything, stops Python from writing it, so it is removed rather than set. Without: every module is
    # compiled from source, as in a zip that `chalice package` made alone (its code directory is read-only).
    env = _env()  # not in Lambda: app.py's init warm-up (bootstrap.warm_up) stays off, as for the libraries
    if not bytecode:
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="no-bytecode-"))
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=stmt)], cwd=ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        samples.append(float(out.strip().splitlines()[-1]))
    return statistics.median(samples)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "AWS_LAMBDA_FUNCTION_NAME")}
    env["AWS_DEFAULT_REGION"] = "cn-north-1"
    return env


def instructions(stmt: str, runs: int = 1) -> int | None:
    """Instructions a fresh interpreter executes for `stmt` (valgrind's callgrind), the median of `runs`
    processes (each hashes strings with its own random seed, which moves `import app` by ~1-2 M), or None
    without valgrind."""
    if not shutil.which("valgrind"):
        return None
    counts = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="callgrind-") as folder:
            done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={folder}/out",
                                   sys.executable, "-c", stmt], cwd=ROOT, env=_env(), capture_output=True, text=True)
        found = re.search(r"Collected : (\d+)", done.stderr)
        if done.returncode != 0 or not found:
            return None
        counts.append(int(found.group(1)))
    return int(statistics.median(counts))


def precompile() -> None:
    """Compile app.py and chalicelib/ first, so that every run reads bytecode as the libraries do."""
    compileall.compile_dir(str(ROOT / "chalicelib"), quiet=1)
    compileall.compile_file(str(ROOT / "app.py"), quiet=1)


def heaviest(stmt: str, top: int = 8) -> list[tuple[int, str]]:
    """The modules with the largest cumulative import time (-X importtime), in microseconds."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", stmt], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "AWS_DEFAULT_REGION": "cn-north-1"}).stderr
    rows = []
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
            if not name.startswith(" "):
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def run(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--counts", type=int, default=3, help="callgrind processes per statement (median)")
    args = parser.parse_args(argv)
    precompile()
    medians = {name: measure(stmt, args.runs) for name, stmt in CASES.items()}
    libs = medians["chalice + botocore + pynamodb"]
    ratio = medians["app"] / libs
    from_source = measure(CASES["app"], max(3, args.runs // 3), bytecode=False)
    figures = [Figure(f"cold import: {name} (median of {args.runs})", f"{seconds * 1000:.1f} ms")
               for name, seconds in medians.items()]
    figures.append(Figure("cold import: app compiled from source (a zip without bytecode)",
                          f"{from_source * 1000:.1f} ms"))
    figures.append(Figure("from source / from the bytecode make package ships", f"{from_source / medians['app']:.1f}"))
    counted = {name: instructions(CASES[name], args.counts) for name in ("app", "chalice + botocore + pynamodb")}
    start = instructions("pass", args.counts)
    if start is not None and None not in counted.values():
        own = {name: n - start for name, n in counted.items()}
        by_count = own["app"] / own["chalice + botocore + pynamodb"]
        figures += [Figure(f"instructions: {name} (interpreter start, {start / 1e6:.0f} M, subtracted; median of "
                           f"{args.counts})", f"{n / 1e6:.1f} M") for name, n in own.items()]
        figures.append(Figure("app / (chalice + botocore + pynamodb), in instructions", f"{by_count:.3f}", "<= 1.25",
                              by_count <= 1.25))
        figures.append(Figure("app / (chalice + botocore + pynamodb), in wall time (noisy on a busy machine)",
                              f"{ratio:.2f}"))
    else:
        figures.append(Figure("app / (chalice + botocore + pynamodb)", f"{ratio:.2f}", "<= 1.25", ratio <= 1.25))
    figures.append(Figure("app's own modules (app - libraries)", f"{(medians['app'] - libs) * 1000:.1f} ms"))
    figures.append(Figure("app / (chalice + botocore + pynamodb + wechatpy)",
                          f"{medians['app'] / medians['chalice + botocore + pynamodb + wechatpy']:.2f}"))
    LOG.info("heaviest top-level imports of app (cumulative): %s",
             ", ".join(f"{name} {micros / 1000:.1f} ms" for micros, name in heaviest("import app")))
    return figures


def main(argv: list[str] | None = None) -> int:
    print(render([("import time", run(argv))]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
