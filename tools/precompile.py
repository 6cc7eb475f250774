"""Bytecode in the Lambda zips, so a cold start does not compile the platform and its libraries.

`chalice package` zips sources only (its dependency builder unpacks wheels without compiling them), and a
function's code directory is read-only, so without this every cold start compiles every module it imports:
`import app` costs ~6.4 G instructions from source against ~1.0 G from bytecode (bench/import_time.py).

Each `.py` in the zips gets `__pycache__/<name>.cpython-311.pyc` compiled with the *unchecked-hash*
invalidation mode: Python loads it without comparing timestamps (a zip keeps them at two-second precision)
and without hashing the source. Any bytecode chalice copied from a working tree is dropped first. The
interpreter that runs this must be the Lambda runtime's minor version (the Makefile requires 3.11).

    python -m tools.precompile build/package/deployment.zip build/package/layer-deployment.zip
"""
from __future__ import annotations

import importlib.util
import logging
import marshal
import os
import sys
import tempfile
import zipfile
from pathlib import Path

LOG = logging.getLogger("tools.precompile")
RUNTIME = (3, 11)
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, not checked against the source


def pyc_name(source_name: str) -> str:
    """`chalicelib/app.py` -> `chalicelib/__pycache__/app.cpython-311.pyc` (the runtime's own tag)."""
    folder, _, file = source_name.rpartition("/")
    cached = f"__pycache__/{file[:-3]}.{sys.implementation.cache_tag}.pyc"
    return f"{folder}/{cached}" if folder else cached


def bytecode(source: bytes, name: str) -> bytes | None:
    """The .pyc for `source` (unchecked hash), or None when it does not compile under this interpreter."""
    try:
        code = compile(source, name, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:  # e.g. a Python 2 file some packages still ship as data
        LOG.warning("left uncompiled: %s (%s)", name, exc)
        return None
    header = importlib.util.MAGIC_NUMBER + UNCHECKED_HASH.to_bytes(4, "little")
    return header + importlib.util.source_hash(source) + marshal.dumps(code)


def precompile(path: Path) -> tuple[int, int]:
    """Rewrite the zip at `path` with bytecode beside every source; returns (sources, compiled)."""
    sources = compiled = 0
    with zipfile.ZipFile(path) as old, tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as new:
            for info in old.infolist():
                if info.filename.endswith(".pyc") or "/__pycache__/" in f"/{info.filename}":
                    continue  # a working tree's timestamp bytecode: replaced below
                data = old.read(info)
                new.writestr(info, data)
                if info.filename.endswith(".py"):
                    sources += 1
                    pyc = bytecode(data, info.filename)
                    if pyc is not None:
                        entry = zipfile.ZipInfo(pyc_name(info.filename), date_time=info.date_time)
                        entry.external_attr = info.external_attr
                        entry.compress_type = zipfile.ZIP_DEFLATED
                        new.writestr(entry, pyc)
                        compiled += 1
    os.replace(tmp.name, path)
    return sources, compiled


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if sys.version_info[:2] != RUNTIME:
        print(f"precompile: Python {RUNTIME[0]}.{RUNTIME[1]} is required (the Lambda runtime's bytecode)",
              file=sys.stderr)
        return 2
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    if not paths:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    for path in paths:
        sources, compiled = precompile(path)
        LOG.info("%s: %d sources, %d compiled to bytecode", path, sources, compiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
