"""The house's floors, enforced: who may import whom (see README "How the code is laid out").

- domain/: plain Python — only the standard library and other domain modules;
- services/: use cases — never chalice, never an AWS, HTTP or WeChat library; the store only through
  `chalicelib.bootstrap`;
- routes/, jobs/ and app.py: entry points — never the store;
- runtime code never imports moto, pytest or chalice's CLI parts;
- `import app` loads none of the heavy optional modules (wechatpy, zhconv, argon2): each is lazy in one place.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "chalicelib"
STDLIB = set(sys.stdlib_module_names) | {"__future__"}

HEAVY_LAZY = {"wechatpy": "chalicelib/wechat/client.py", "zhconv": "chalicelib/domain/text.py",
              "argon2": "chalicelib/auth/passwords.py",
              "requests": "chalicelib/wechat/client.py",  # wechatpy's transport, loaded with it
              # PyJWT imports `cryptography`; AES is only for safe-mode callbacks (see README, cold start)
              "jwt": "chalicelib/auth/tokens.py", "cryptography": "chalicelib/wechat/protocol.py"}


def imports_of(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` blocks are module level too
        if isinstance(node, ast.If):
            top_level |= {id(inner) for inner in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.module, node.lineno, id(node) in top_level)]
    return found


# Data a pure function reads, shipped as a library: zhconv's traditional → simplified table (text.py).
DOMAIN_TABLES = {"zhconv"}


def files(folder: str) -> list[Path]:
    return sorted((LIB / folder).rglob("*.py")) if folder else []


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_domain_imports_only_the_domain_and_the_standard_library():
    bad = [f"{_rel(p)}:{line} imports {module}" for p in files("domain") for module, line, _ in imports_of(p)
           if module.split(".")[0] not in STDLIB and not module.startswith("chalicelib.domain")
           and module.split(".")[0] not in DOMAIN_TABLES]
    assert not bad, "\n".join(bad)


FORBIDDEN_IN_SERVICES = ("chalice", "pynamodb", "botocore", "boto3", "jwt", "argon2", "requests", "wechatpy", "moto",
                         "chalicelib.store", "chalicelib.routes", "chalicelib.jobs", "chalicelib.wechat.client")


def test_services_reach_adapters_only_through_bootstrap_and_never_chalice():
    bad = [f"{_rel(p)}:{line} imports {module}" for p in files("services") for module, line, _ in imports_of(p)
           if any(module == f or module.startswith(f + ".") for f in FORBIDDEN_IN_SERVICES)]
    assert not bad, "\n".join(bad)


def test_entry_points_never_touch_the_store():
    entry = files("routes") + files("jobs") + [ROOT / "app.py"]
    bad = [f"{_rel(p)}:{line} imports {module}" for p in entry for module, line, _ in imports_of(p)
           if module == "chalicelib.store" or module.startswith("chalicelib.store.")]
    assert not bad, "\n".join(bad)


def test_runtime_code_never_imports_test_or_laptop_tools():
    runtime = sorted(LIB.rglob("*.py")) + [ROOT / "app.py"]
    bad = [f"{_rel(p)}:{line} imports {module}" for p in runtime for module, line, _ in imports_of(p)
           if module.split(".")[0] in ("moto", "pytest", "local", "tests", "tools", "bench")
           or module.startswith("chalice.cli") or module.startswith("chalice.deploy")
           or module.startswith("chalice.local") or module.startswith("chalice.test")]
    assert not bad, "\n".join(bad)


def test_imports_sit_at_the_top_except_the_heavy_optional_ones_each_in_one_place():
    lazy = {}
    bad = []
    for p in sorted(LIB.rglob("*.py")):
        for module, line, top in imports_of(p):
            if top or module == "typing":
                continue
            root = module.split(".")[0]
            if root in HEAVY_LAZY:
                lazy.setdefault(root, set()).add(_rel(p))
            else:
                bad.append(f"{_rel(p)}:{line} imports {module} inside a function")
    assert not bad, "\n".join(bad)
    for root, homes in lazy.items():
        assert homes == {HEAVY_LAZY[root]}, f"{root} is imported lazily in {sorted(homes)}, not only in its one home"


@pytest.mark.parametrize("module", sorted(HEAVY_LAZY))
def test_import_app_loads_none_of_the_heavy_optional_modules(module):
    code = f"import sys, app; sys.exit(1 if {module!r} in sys.modules else 0)"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "STAGE": "test", "AWS_DEFAULT_REGION": "cn-north-1"})
    assert run.returncode == 0, f"`import app` loaded {module}: {run.stderr[-2000:]}"
