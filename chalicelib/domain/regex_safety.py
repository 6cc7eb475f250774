"""Is a staff-written regular expression safe to run on every message? (正则表达式安全检查)

Python's `re` backtracks: `(a+)+$` on thirty `a`s and a `!` takes longer than the universe is old. A
regex rule runs on every text message of an account, so one bad rule would stall its callbacks. Before a
rule is saved, its pattern is refused when:

1. it does not compile, or is longer than `MAX_PATTERN`;
2. a quantifier that may repeat without bound holds another one (nested quantifiers: `(a+)+`, `(\\w*\\s?)*`),
   or holds something that may match the empty string (`(a?)*`);
3. an unboundedly repeated group has alternatives that can start with the same character (overlapping
   alternation: `(a|ab)*`, `(\\d|1)+`);
4. a trial match on hostile inputs built from the pattern does not finish in time (`attack_inputs` makes the
   inputs; the timing itself runs in a separate process, `chalicelib.services.rules.trial_match`, because a
   running `re` match cannot be interrupted).

The parse tree is read with the standard library's own parser (`re._parser`).
"""
from __future__ import annotations

import re
import re._constants as sre_constants  # Python 3.11: the standard library's own regex parser
import re._parser as sre_parse

MAX_PATTERN = 300
MAX_REPEAT = sre_constants.MAXREPEAT
ANY_CHAR = "any"  # a first-set that may be any character

_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
POSSESSIVE = {sre_constants.POSSESSIVE_REPEAT}


class UnsafeRegex(ValueError):
    """The pattern may backtrack catastrophically (or is not a pattern): `str()` says why, in Chinese."""


def check(pattern: str) -> None:
    """Raise `UnsafeRegex` when the pattern is refused by the static checks (1–3 above)."""
    if len(pattern) > MAX_PATTERN:
        raise UnsafeRegex(f"正则表达式太长（最多 {MAX_PATTERN} 个字符）")
    try:
        tree = sre_parse.parse(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnsafeRegex(f"正则表达式写错了：{exc}") from exc
    _walk(list(tree), inside_unbounded=False)


def _walk(items, inside_unbounded: bool) -> None:
    for op, arg in items:
        if op in _REPEATS:
            low, high, body = arg
            unbounded = high == MAX_REPEAT or high > 50
            body = list(body)
            if unbounded or high > 1:
                if _can_repeat(body):
                    raise UnsafeRegex("嵌套的重复（例如 (a+)+）可能导致匹配极慢，请改写成不嵌套的形式")
                if unbounded and _can_be_empty(body):
                    raise UnsafeRegex("重复的部分可以什么都不匹配（例如 (a?)*），可能导致匹配极慢")
                if unbounded:
                    _check_alternation(body)
            _walk(body, inside_unbounded or unbounded)
        elif op in POSSESSIVE:
            continue  # possessive repeats never backtrack
        elif op == sre_constants.SUBPATTERN:
            _walk(list(arg[-1]), inside_unbounded)
        elif op == sre_constants.BRANCH:
            for alternative in arg[1]:
                _walk(list(alternative), inside_unbounded)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            _walk(list(arg[1]), inside_unbounded)
        elif op == sre_constants.GROUPREF_EXISTS:
            _walk(list(arg[1]), inside_unbounded)
            if arg[2] is not None:
                _walk(list(arg[2]), inside_unbounded)


def _can_repeat(items) -> bool:
    """Whether the items hold a quantifier that repeats more than once."""
    for op, arg in items:
        if op in _REPEATS and arg[1] > 1 and arg[0] != arg[1]:  # a fixed count ({3}) is no ambiguity
            return True
        if op == sre_constants.SUBPATTERN and _can_repeat(list(arg[-1])):
            return True
        if op == sre_constants.BRANCH and any(_can_repeat(list(a)) for a in arg[1]):
            return True
    return False


def _can_be_empty(items) -> bool:
    for op, arg in items:
        if op in _REPEATS:
            if arg[0] > 0 and not _can_be_empty(list(arg[2])):
                return False
        elif op == sre_constants.SUBPATTERN:
            if not _can_be_empty(list(arg[-1])):
                return False
        elif op == sre_constants.BRANCH:
            if not any(_can_be_empty(list(a)) for a in arg[1]):
                return False
        elif op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            continue
        else:
            return False
    return True


def _check_alternation(items) -> None:
    """Alternatives directly under an unbounded repeat must not share a first character."""
    for op, arg in items:
        if op == sre_constants.SUBPATTERN:
            _check_alternation(list(arg[-1]))
        elif op == sre_constants.BRANCH:
            firsts = [_first(list(a)) for a in arg[1]]
            for i, a in enumerate(firsts):
                for b in firsts[i + 1:]:
                    if a == ANY_CHAR or b == ANY_CHAR or (a & b):
                        raise UnsafeRegex("重复的选择分支可以从同一个字开始（例如 (a|ab)*），可能导致匹配极慢")
        elif op in (sre_constants.IN, sre_constants.LITERAL):
            continue


_SAMPLES = [chr(c) for c in range(32, 127)] + ["中", "文", "\u3000", "，", "。", "１"]


def _first(items):
    """The characters the items may start with (a set of characters tried from a sample), or ANY_CHAR."""
    pattern = _rebuild(items)
    if pattern is None:
        return ANY_CHAR
    compiled = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    return {c for c in _SAMPLES if compiled.match(c) or compiled.match(c + "x" * 3)}


def _rebuild(items):
    """Not every node can be rebuilt from the tree; the first element decides the first character."""
    if not items:
        return None
    op, arg = items[0]
    if op == sre_constants.LITERAL:
        return re.escape(chr(arg))
    if op == sre_constants.NOT_LITERAL:
        return None
    if op == sre_constants.ANY:
        return None
    if op == sre_constants.IN:
        return _class(arg)
    if op in _REPEATS:
        if arg[0] == 0:
            return None  # may be skipped: what follows may come first too
        return _rebuild(list(arg[2]))
    if op == sre_constants.SUBPATTERN:
        return _rebuild(list(arg[-1]))
    if op == sre_constants.BRANCH:
        parts = [_rebuild(list(a)) for a in arg[1]]
        return None if any(p is None for p in parts) else "(?:" + "|".join(parts) + ")"
    return None


_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: r"\d", sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s", sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w", sre_constants.CATEGORY_NOT_WORD: r"\W",
}


def _class(items):
    parts, negate = [], False
    for op, arg in items:
        if op == sre_constants.NEGATE:
            negate = True
        elif op == sre_constants.LITERAL:
            parts.append(re.escape(chr(arg)))
        elif op == sre_constants.RANGE:
            parts.append(f"{re.escape(chr(arg[0]))}-{re.escape(chr(arg[1]))}")
        elif op == sre_constants.CATEGORY and arg in _CATEGORIES:
            parts.append(_CATEGORIES[arg])
        else:
            return None
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def attack_inputs(pattern: str, length: int = 40) -> list[str]:
    """Inputs that make a backtracking pattern slow: runs of the characters the pattern names, then a
    character that spoils the match at the end."""
    chars = {c for c in pattern if c.isalnum() or "\u4e00" <= c <= "\u9fff" or c in " ,，"} | {"a", "1", " ", "中"}
    inputs = []
    for c in sorted(chars)[:20]:
        run = c * length
        inputs += [run + "!", run + "\n", "!" + run]
    mixed = "".join(sorted(chars))[:10]
    inputs.append((mixed * (length // max(len(mixed), 1) + 1))[: length * 2] + "!")
    return inputs
