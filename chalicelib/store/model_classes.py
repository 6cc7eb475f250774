"""PynamoDB's class set-up without `inspect.getmembers` (模型类的快速建立).

When a model, a map or an index class is defined, PynamoDB looks for its attributes and indexes with
`inspect.getmembers(cls, lambda o: isinstance(o, Attribute))` (pynamodb/attributes.py, indexes.py) and
`... isinstance(o, Index)` (models.py): `dir(cls)`, sorted, then `getattr` on every name — some 120 of them
for a model, nearly all inherited from `Model` (its methods) and `object` — twice per model and once per
index. For the platform's ~45 models and ~30 indexes that was some 40 million instructions of a cold start
(bench/import_time.py), spent finding the few names a class itself declares.

`members` gives the same answer as `inspect.getmembers` for those three calls — the same (name, value)
pairs, from `getattr(cls, name)`, sorted by name — but looks only at the names a class and its own bases
declare, skipping the library's base classes (`Model`, `AttributeContainer`, `Index`, `Generic`, `object`)
once it has checked that they hold nothing such a predicate could accept (no attribute, no index, no
descriptor of unknown kind). A value that could be accepted is offered to the caller's predicate, as
before. Whatever the fast path cannot vouch for (not a class, a metaclass with its own `__getattribute__`
or `__dir__`, a base class after a library base in the order of resolution, a dynamic class attribute)
goes to `inspect.getmembers` itself.

The three modules' `getmembers` are replaced only for the PynamoDB version whose callers were read
(SUPPORTED, which requirements.txt pins); with another version PynamoDB keeps its own. tests/test_model_classes.py
compares both for every model and index of the platform.
"""
from __future__ import annotations

import inspect
import types
from typing import Any, Callable, Generic

import pynamodb
import pynamodb.attributes
import pynamodb.indexes
import pynamodb.models
from pynamodb.attributes import Attribute, AttributeContainer
from pynamodb.indexes import GlobalSecondaryIndex, Index, LocalSecondaryIndex
from pynamodb.models import Model

SUPPORTED = ("6.1.0",)  # PynamoDB versions whose three getmembers calls accept only Attribute or Index instances
WANTED = (Attribute, Index)  # all that those predicates can accept
PATCHED = (pynamodb.attributes, pynamodb.indexes, pynamodb.models)

# Descriptor types (exactly these, not subclasses) whose `__get__(None, cls)` gives a function, a method or
# the descriptor itself, never an attribute or an index; any other descriptor is looked up, as getmembers does.
_PLAIN = frozenset((types.FunctionType, classmethod, staticmethod, property, types.WrapperDescriptorType,
                    types.MethodDescriptorType, types.ClassMethodDescriptorType, types.GetSetDescriptorType,
                    types.MemberDescriptorType, types.BuiltinFunctionType))


NO_GET, PLAIN_GET, ATTRIBUTE_GET, OTHER_GET = range(4)
_gets: dict[type, int] = {}


def _get_kind(kind: type) -> int:
    """How `getattr(cls, name)` treats a value of this type found in a class's dictionary: as it is (no
    `__get__`), as a plain descriptor, as PynamoDB's `Attribute.__get__` (which gives the attribute itself
    for a class), or through some other `__get__`. Remembered per type (`hasattr` on a type without it
    raises and formats an error: costly, and asked for most values of every class)."""
    found = _gets.get(kind)
    if found is None:
        if kind in _PLAIN:
            found = PLAIN_GET
        elif not hasattr(kind, "__get__"):
            found = NO_GET
        elif (issubclass(kind, Attribute) and kind.__get__ is Attribute.__get__
              and kind._is_map_attribute_class_object is Attribute._is_map_attribute_class_object):
            found = ATTRIBUTE_GET
        else:
            found = OTHER_GET
        _gets[kind] = found
    return found


def _candidate(raw: Any) -> bool:
    """Could `getattr(cls, name)` be accepted, where the class's dictionary holds `raw` under the name?"""
    return isinstance(raw, WANTED) or _get_kind(type(raw)) == OTHER_GET


def _holds_nothing(base: type) -> bool:
    return not any(_candidate(raw) or isinstance(raw, types.DynamicClassAttribute) for raw in vars(base).values())


# The library's base classes, where none of the names they declare can be a member wanted here.
_LIBRARY = frozenset(
    base for base in (Model, AttributeContainer, GlobalSecondaryIndex, LocalSecondaryIndex, Index, Generic, object)
    if _holds_nothing(base))
_plain_metaclasses: dict[type, bool] = {}


def _plain_metaclass(meta: type) -> bool:
    """Does `getattr(cls, name)` for a class of this metaclass read the class's own dictionaries? (Not if the
    metaclass has its own `__getattribute__`, `__getattr__`, `__dir__`, or a data descriptor beyond those of
    `type` and `object`, which give the class's name, dictionary, module, documentation.)"""
    plain = _plain_metaclasses.get(meta)
    if plain is None:
        plain = _plain_metaclasses[meta] = (
            meta.__getattribute__ is type.__getattribute__ and meta.__dir__ is type.__dir__
            and not hasattr(meta, "__getattr__")
            and not any(hasattr(type(raw), "__set__") or hasattr(type(raw), "__delete__")
                        for klass in meta.__mro__ if klass not in (type, object) for raw in vars(klass).values()))
    return plain


def members(obj: Any, predicate: Callable[[Any], bool] | None = None) -> list[tuple[str, Any]]:
    """`inspect.getmembers(obj, predicate)` for a predicate that accepts only attributes or indexes."""
    if predicate is None or not isinstance(obj, type) or not _plain_metaclass(type(obj)):
        return inspect.getmembers(obj, predicate)
    nearest: dict[str, Any] = {}
    library = False
    for klass in obj.__mro__:
        if klass in _LIBRARY:
            library = True
        elif library:  # a class of ours after one of the library's: its names may hide or be hidden
            return inspect.getmembers(obj, predicate)
        else:
            for name, raw in vars(klass).items():
                if isinstance(raw, types.DynamicClassAttribute):  # getmembers may list these twice
                    return inspect.getmembers(obj, predicate)
                if name not in nearest:
                    nearest[name] = raw
    found = []
    for name, raw in nearest.items():
        get = _get_kind(type(raw))
        if isinstance(raw, WANTED):
            if get == NO_GET or (get == ATTRIBUTE_GET and not name.startswith("__")):
                value = raw  # what getattr gives: the value itself (type's own descriptors answer only dunders)
            else:
                try:
                    value = getattr(obj, name)
                except AttributeError:
                    value = raw
        elif get == OTHER_GET:
            try:
                value = getattr(obj, name)
            except AttributeError:
                value = raw
        else:
            continue
        if predicate(value):
            found.append((name, value))
    found.sort(key=lambda pair: pair[0])
    return found


def active() -> bool:
    """Does PynamoDB set up classes through `members`?"""
    return all(module.getmembers is members for module in PATCHED)


def install() -> None:
    """Replace the three modules' `getmembers` (for a SUPPORTED PynamoDB whose modules still use it)."""
    if pynamodb.__version__ in SUPPORTED and all(module.getmembers is inspect.getmembers for module in PATCHED):
        for module in PATCHED:
            module.getmembers = members


install()
