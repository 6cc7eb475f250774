"""Regular expressions compiled on first use (延迟编译): `lazy_re` for module-level patterns.

Compiling a pattern runs `re`'s parser and compiler in Python: the platform's ~50 module-level patterns
cost a cold start about 50 million instructions (a fifth of the app's own import, bench/import_time.py),
although a request uses a few of them. `lazy_re(pattern, flags)` keeps the pattern visible where it is
declared and compiles it the first time it is used, through `re.compile` (and its cache), so a
`LazyPattern` answers exactly as the compiled `re.Pattern` would: the matching methods, `pattern`,
`flags`, `groups`, `groupindex`, equality and hash (tests/test_patterns.py holds the two side by side).
Where a real `re.Pattern` is needed (`isinstance`, `re.sub(pattern, ...)`), pass `.compiled()`.
"""
from __future__ import annotations

import re
from typing import Any, AnyStr, Callable, Iterator

__all__ = ["LazyPattern", "compile_all", "lazy_re"]


class LazyPattern:
    """A `re.Pattern` compiled on first use."""

    __slots__ = ("pattern", "_flags", "_compiled")

    def __init__(self, pattern: AnyStr, flags: int | re.RegexFlag = 0):
        self.pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern | None = None

    def compiled(self) -> re.Pattern:
        """The compiled pattern (compiled now if this is its first use)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self._flags)
        return compiled

    def match(self, string: AnyStr, *args: int) -> re.Match | None:
        return self.compiled().match(string, *args)

    def fullmatch(self, string: AnyStr, *args: int) -> re.Match | None:
        return self.compiled().fullmatch(string, *args)

    def search(self, string: AnyStr, *args: int) -> re.Match | None:
        return self.compiled().search(string, *args)

    def finditer(self, string: AnyStr, *args: int) -> Iterator[re.Match]:
        return self.compiled().finditer(string, *args)

    def findall(self, string: AnyStr, *args: int) -> list[Any]:
        return self.compiled().findall(string, *args)

    def split(self, string: AnyStr, maxsplit: int = 0) -> list[Any]:
        return self.compiled().split(string, maxsplit)

    def sub(self, repl: AnyStr | Callable[[re.Match], AnyStr], string: AnyStr, count: int = 0) -> AnyStr:
        return self.compiled().sub(repl, string, count)

    def subn(self, repl: AnyStr | Callable[[re.Match], AnyStr], string: AnyStr, count: int = 0) -> tuple[AnyStr, int]:
        return self.compiled().subn(repl, string, count)

    @property
    def flags(self) -> int:
        return self.compiled().flags

    @property
    def groups(self) -> int:
        return self.compiled().groups

    @property
    def groupindex(self) -> Any:
        return self.compiled().groupindex

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyPattern):
            other = other.compiled()
        return self.compiled() == other

    def __hash__(self) -> int:
        return hash(self.compiled())

    def __repr__(self) -> str:
        return repr(self.compiled())


_DECLARED: list[LazyPattern] = []  # every pattern `lazy_re` made, for `compile_all`


def lazy_re(pattern: AnyStr, flags: int | re.RegexFlag = 0) -> LazyPattern:
    """`re.compile(pattern, flags)`, compiled when first used (see the module's docstring)."""
    lazy = LazyPattern(pattern, flags)
    _DECLARED.append(lazy)
    return lazy


def compile_all() -> int:
    """Compile every declared pattern now (Lambda's init phase, `bootstrap.warm_up`: the container's first
    request then compiles none); how many there are."""
    for lazy in _DECLARED:
        try:
            lazy.compiled()
        except re.error:
            pass  # a broken pattern fails where it is used, as it would have (tests/test_patterns.py)
    return len(_DECLARED)
