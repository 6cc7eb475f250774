"""Records (值对象): frozen dataclasses without their import-time cost.

`@record` is a frozen dataclass (`dataclass(frozen=True)`) with the same behaviour — the constructor (positional, keyword,
defaults, `field(default_factory=...)`, `field(init=False)`, `__post_init__`), `repr` (honouring
`field(repr=False)`), equality and hash over the compared fields, `FrozenInstanceError` on assignment, and
`dataclasses.fields / replace / asdict / is_dataclass` — but its methods are shared closures instead of source
text compiled per class. `@record(frozen=False)` is likewise a plain `@dataclass` (fields may be assigned,
instances are unhashable), for the rare value built up field by field.

Why: `dataclass` compiles five or six functions with `exec` for every class, about 0.5 ms each class. The
platform defines about eighty value types (effects, decisions, schemas, settings), so plain dataclasses
cost roughly half of the app's own import time, paid by every Lambda cold start (bench/import_time.py).
Even called for fields only, `dataclass` checks every field (ClassVar? InitVar? KW_ONLY?); when every
annotation is a plain string and no base is a dataclass, `_plain_fields` makes the same fields without
those checks (~6 million instructions of a cold start).
`tests/test_records.py` holds the two side by side.
"""
from __future__ import annotations

import abc
import dataclasses
import sys
import types
from dataclasses import MISSING, FrozenInstanceError
from typing import TypeVar

__all__ = ["record"]

T = TypeVar("T", bound=type)
_SPECIAL = ("ClassVar", "InitVar", "KW_ONLY")  # what `dataclass` looks for in a string annotation


def record(cls: T | None = None, /, *, frozen: bool = True):
    """Make `cls` a frozen dataclass (see the module's docstring); `@record(frozen=False)`: a plain one
    (`dataclass()`: fields may be assigned, instances are unhashable)."""
    if cls is None:
        return lambda cls: _record(cls, frozen)
    return _record(cls, frozen)


def _record(cls: T, frozen: bool) -> T:
    if not cls.__doc__:  # dataclass would describe the class by `inspect.signature`, which loads `tokenize`
        cls.__doc__ = f"{cls.__name__}({', '.join(cls.__dict__.get('__annotations__', {}))})"
    annotations = cls.__dict__.get("__annotations__", {})
    # With `from __future__ import annotations` every annotation is a string, which `dataclass` reads with a
    # regular expression three times per field (is it ClassVar? InitVar? KW_ONLY?), about a third of its
    # cost. A string naming none of them gets the plain answer at once: the fields are collected with a
    # neutral annotation, then given their own. (Annotations that are objects, or that name one of them,
    # go the ordinary way.)
    plain = bool(annotations) and all(isinstance(a, str) and not any(word in a for word in _SPECIAL)
                                      for a in annotations.values())
    if not (plain and _plain_fields(cls, annotations)):
        if plain:
            cls.__annotations__ = dict.fromkeys(annotations, object)
        cls = dataclasses.dataclass(cls, init=False, repr=False, eq=False)  # fields only: nothing is compiled
        if plain:
            cls.__annotations__ = annotations
            for own in cls.__dict__["__dataclass_fields__"].values():
                if own.name in annotations:
                    own.type = annotations[own.name]
    fields = dataclasses.fields(cls)
    name = cls.__name__
    taken = tuple(f for f in fields if f.init)
    names = tuple(f.name for f in taken)
    position = {n: i for i, n in enumerate(names)}
    defaults = tuple((f.default, f.default_factory) for f in taken)
    computed = tuple((f.name, f.default, f.default_factory) for f in fields if not f.init)
    shown = tuple(f.name for f in fields if f.repr)
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    required = sum(1 for default, factory in defaults if default is factory is MISSING)
    accepted = f"from {required + 1} to {len(names) + 1}" if required < len(names) else str(len(names) + 1)
    post_init = getattr(cls, "__post_init__", None)

    put = object.__setattr__

    def __init__(self, *args, **kwargs):
        if len(args) > len(names):
            raise TypeError(f"{name}.__init__() takes {accepted} positional argument{'s' if len(names) else ''} "
                            f"but {len(args) + 1} were given")
        values = [*args, *(MISSING,) * (len(names) - len(args))]
        for key, value in kwargs.items():
            at = position.get(key)
            if at is None:
                raise TypeError(f"{name}.__init__() got an unexpected keyword argument '{key}'")
            if values[at] is not MISSING:
                raise TypeError(f"{name}.__init__() got multiple values for argument '{key}'")
            values[at] = value
        missing = [n for n, v, (d, f) in zip(names, values, defaults) if v is MISSING and d is f is MISSING]
        if missing:
            raise TypeError(f"{name}.__init__() missing {len(missing)} required positional "
                            f"argument{'s' if len(missing) > 1 else ''}: {_listed(missing)}")
        for field_name, value, (default, factory) in zip(names, values, defaults):
            if value is MISSING:
                value = default if default is not MISSING else factory()
            put(self, field_name, value)
        for field_name, default, factory in computed:
            if default is not MISSING:
                put(self, field_name, default)
            elif factory is not MISSING:
                put(self, field_name, factory())
        if post_init is not None:
            post_init(self)

    def __repr__(self):
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in shown)})"

    def __eq__(self, other):
        if other.__class__ is not self.__class__:
            return NotImplemented
        return tuple(getattr(self, n) for n in compared) == tuple(getattr(other, n) for n in compared)

    def __hash__(self):
        return hash(tuple(getattr(self, n) for n in hashed))

    def __setattr__(self, attribute, value):
        raise FrozenInstanceError(f"cannot assign to field {attribute!r}")

    def __delattr__(self, attribute):
        raise FrozenInstanceError(f"cannot delete field {attribute!r}")

    methods = (__init__, __repr__, __eq__, __hash__, __setattr__, __delattr__) if frozen else (__init__, __repr__,
                                                                                                __eq__)
    if not frozen:
        own_hash = cls.__dict__.get("__hash__", MISSING)
        if own_hash is MISSING or (own_hash is None and "__eq__" in cls.__dict__):  # as dataclass decides
            cls.__hash__ = None
    for method in methods:
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
        method.__module__ = cls.__module__
        setattr(cls, method.__name__, method)
    return cls


# What `dataclass` itself sets on a class, for `_plain_fields`, as Python 3.11 has it (another: the long way).
_PARAMS = getattr(dataclasses, "_DataclassParams", None) if sys.version_info[:2] == (3, 11) else None
_FIELD = getattr(dataclasses, "_FIELD", None)


def _plain_fields(cls: type, annotations: dict[str, str]) -> bool:
    """Give `cls` the fields `dataclass(cls, init=False, repr=False, eq=False)` would give it — the same
    `Field`s, `__dataclass_params__` and `__match_args__`, the class attributes set or removed alike — when
    every annotation is a plain string and no base class is a dataclass: its field by field checks (is this
    a ClassVar? an InitVar? KW_ONLY?) cannot apply then, and they are most of its cost. False (nothing
    done) for anything else, which then goes to `dataclass` itself, errors included."""
    if (_PARAMS is None or _FIELD is None or "__slots__" in cls.__dict__
            or any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:])):
        return False
    made, declared = {}, {}
    for name, kind in annotations.items():
        default = getattr(cls, name, MISSING)
        if isinstance(default, types.MemberDescriptorType):  # a slot
            return False
        if isinstance(default, dataclasses.Field):
            own = declared[name] = default
        else:
            own = dataclasses.field(default=default)
        if own.default.__class__.__hash__ is None:  # a mutable default: dataclass says so
            return False
        made[name] = own
    if any(isinstance(value, dataclasses.Field) and name not in annotations for name, value in cls.__dict__.items()):
        return False  # a field without an annotation: dataclass says so
    for name, own in made.items():
        own.name, own.type, own._field_type = name, annotations[name], _FIELD
        if own.kw_only is MISSING:
            own.kw_only = False
        if own is declared.get(name):  # the class attribute is this field (`= field(...)`), as dataclass asks
            if own.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, own.default)
    cls.__dataclass_params__ = _PARAMS(False, False, False, False, False, False)
    cls.__dataclass_fields__ = made
    if "__match_args__" not in cls.__dict__:
        cls.__match_args__ = tuple(name for name, own in made.items() if own.init and not own.kw_only)
    abc.update_abstractmethods(cls)
    return True


def _listed(names: list[str]) -> str:
    """'a', 'a' and 'b', 'a', 'b', and 'c' — as Python itself lists missing arguments."""
    quoted = [f"'{n}'" for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]
