"""`lazy_re` answers exactly as `re.compile` does, compiles on first use, and every module-level pattern of
the platform compiles (a typo would otherwise surface on a request, not at import)."""
from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import chalicelib
from chalicelib.domain.patterns import LazyPattern, lazy_re

ROOT = Path(__file__).resolve().parents[1]

CASES = [
    (r"^(?P<code>[A-Z]{2,3})-?(\d{8})-?(\d{3,4})$", 0, ["XG-20261127-0042", "xg20261127042", "", "XG-1-2"]),
    (r"<img\b[^>]*>", re.IGNORECASE, ["<IMG src=a><img alt='b'>", "no image", "<img"]),
    (r"\s+", 0, ["  a \t b\n", "", "ab"]),
    (r"(\d+|[一二两三])\s*(?:份|位)", 0, ["两份午餐", "3 位", "午餐"]),
    (r"^<!--# ([a-z_]+) -->\n", re.MULTILINE, ["<!--# head -->\nx\n<!--# body -->\ny", "none"]),
    (rb"[0-9]{1,12}", 0, [b"123", b"x", b"1234567890123"]),
]


@pytest.mark.parametrize("pattern, flags, texts", CASES)
def test_a_lazy_pattern_answers_as_the_compiled_one(pattern, flags, texts):
    lazy, real = lazy_re(pattern, flags), re.compile(pattern, flags)
    assert lazy.pattern == real.pattern
    assert (lazy.flags, lazy.groups, dict(lazy.groupindex)) == (real.flags, real.groups, dict(real.groupindex))
    assert lazy == real and hash(lazy) == hash(real) and repr(lazy) == repr(real)
    assert lazy.compiled() is real  # through re's own cache: one compiled object per pattern

    def same(a, b):
        return (a.span(), a.groups(), a.groupdict()) == (b.span(), b.groups(), b.groupdict()) if a and b \
            else a is b is None

    repl = b"#" if isinstance(pattern, bytes) else "#"
    for text in texts:
        for method in ("match", "fullmatch", "search"):
            assert same(getattr(lazy, method)(text), getattr(real, method)(text)), (method, text)
        assert same(lazy.match(text, 1), real.match(text, 1)) and same(lazy.search(text, 0, 3), real.search(text, 0, 3))
        assert lazy.findall(text) == real.findall(text)
        assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in real.finditer(text)]
        assert lazy.split(text) == real.split(text) and lazy.split(text, 1) == real.split(text, 1)
        assert lazy.sub(repl, text) == real.sub(repl, text) and lazy.subn(repl, text, 1) == real.subn(repl, text, 1)
        assert lazy.sub(lambda m: m.group(0)[:1], text) == real.sub(lambda m: m.group(0)[:1], text)


def test_a_lazy_pattern_compiles_on_first_use_and_once():
    lazy = lazy_re(r"(unbalanced")  # a bad pattern is only found when used: hence the test below
    with pytest.raises(re.error):
        lazy.search("x")
    good = lazy_re(r"a+")
    assert good._compiled is None
    first = good.compiled()
    assert good.search("baa").group(0) == "aa" and good.compiled() is first


def test_every_module_level_pattern_of_the_platform_compiles():
    found = 0
    for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        if info.name == "chalicelib.domain.patterns":
            continue  # its registry holds every pattern made, the tests' broken ones too
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            patterns = [value] if isinstance(value, LazyPattern) else \
                [v for item in value for v in (item if isinstance(item, tuple) else (item,))
                 if isinstance(v, LazyPattern)] if isinstance(value, (list, tuple)) else []
            for pattern in patterns:
                assert isinstance(pattern.compiled(), re.Pattern), (info.name, name)
                found += 1
    assert found >= 40


def test_importing_the_app_compiles_none_of_the_platforms_patterns():
    script = ("import re, sys\n"
              "compiled = []\n"
              "original = re.compile\n"
              "def spy(pattern, flags=0):\n"
              "    caller = sys._getframe(1).f_globals.get('__name__', '')\n"
              "    if caller.startswith('chalicelib') and caller != 'chalicelib.domain.patterns':\n"
              "        compiled.append((caller, pattern))\n"
              "    return original(pattern, flags)\n"
              "re.compile = spy\n"
              "import app\n"
              "assert not compiled, compiled\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"AWS_DEFAULT_REGION": "cn-north-1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
