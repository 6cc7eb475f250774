"""PynamoDB sets up the platform's classes through `store/model_classes.members` exactly as through
`inspect.getmembers`: every store module, and a sample of PynamoDB's rarer features, is defined under both
and compared (attributes, keys, indexes, Meta, schema, serialization)."""
from __future__ import annotations

import inspect
import runpy
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pynamodb
import pytest
from pynamodb.attributes import Attribute, MapAttribute
from pynamodb.indexes import Index
from pynamodb.models import Model

from chalicelib.store import model_classes, registry
from chalicelib.store.model_classes import PATCHED, members

STORE_MODULES = sorted({sys.modules[model.__module__].__file__ for model in registry.ALL_MODELS})


def defined(run, fast: bool, monkeypatch) -> dict:
    """What `run()` defines, with PynamoDB's getmembers the fast one or inspect's own."""
    with monkeypatch.context() as patch:
        for module in PATCHED:
            patch.setattr(module, "getmembers", members if fast else inspect.getmembers)
        return run()


def described(cls) -> dict:
    """Everything PynamoDB's class set-up decides about a model, map or index class."""
    def attribute(a):
        return (type(a).__name__, a.attr_name, a.is_hash_key, a.is_range_key, a.null,
                "a function" if callable(a.default) else repr(a.default),
                getattr(a, "attr_path", None), sorted(getattr(type(a), "_attributes", {}) or {}))

    out = {"attributes": [(name, attribute(a)) for name, a in getattr(cls, "_attributes", {}).items()],
           "python_names": getattr(cls, "_dynamo_to_python_attrs", None),
           "discriminator": getattr(cls, "_discriminator", None)}
    if isinstance(cls, type) and issubclass(cls, Model):
        out["keys"] = (cls._hash_keyname, cls._range_keyname, cls._version_attribute_name)
        out["indexes"] = [(name, type(index).__name__, index._model.__name__, index is not vars(type(index)),
                           [(n, attribute(a)) for n, a in index.Meta.attributes.items()],
                           type(index.Meta.projection).__name__) for name, index in cls._indexes.items()]
        out["meta"] = {k: repr(v) for k, v in vars(cls.Meta).items() if not k.startswith("__")}
        out["schema"] = repr(cls._get_schema())
        out["does_not_exist"] = (cls.DoesNotExist.__qualname__, cls.DoesNotExist.__mro__[1].__name__)
    if isinstance(cls, type) and issubclass(cls, Index) and cls.Meta is not None:
        out["index_attributes"] = [(n, attribute(a)) for n, a in cls.Meta.attributes.items()]
    return out


def classes(space: dict) -> dict:
    return {name: described(value) for name, value in space.items()
            if isinstance(value, type) and issubclass(value, (Model, Index, MapAttribute))
            and value.__module__ == space["__name__"]}


def test_the_fast_path_is_on_for_the_pinned_pynamodb():
    pinned = [line for line in (Path(__file__).parent.parent / "requirements.txt").read_text().splitlines()
              if line.startswith("pynamodb==")]
    assert pinned == [f"pynamodb=={pynamodb.__version__}"] and pynamodb.__version__ in model_classes.SUPPORTED
    assert model_classes.active()


@pytest.mark.parametrize("path", STORE_MODULES, ids=lambda p: Path(p).stem)
def test_every_store_module_defines_the_same_models_and_indexes_either_way(path, monkeypatch):
    name = "sample_" + Path(path).stem
    made = [classes(defined(lambda: runpy.run_path(path, run_name=name), fast, monkeypatch)) for fast in (False, True)]
    assert made[0] and made[0] == made[1]


def test_the_platforms_models_and_indexes_give_the_same_members_either_way():
    seen = set()
    for model in registry.ALL_MODELS:
        for cls in (model, *(type(index) for index in model._indexes.values())):
            for kind in (Attribute, Index):
                predicate = lambda o, kind=kind: isinstance(o, kind)  # as PynamoDB passes it
                assert members(cls, predicate) == inspect.getmembers(cls, predicate), (cls, kind)
            seen.add(cls)
    assert len(seen) > len(registry.ALL_MODELS)  # indexes were compared too


RARE = '''
from datetime import datetime, timezone
from pynamodb.attributes import (DiscriminatorAttribute, ListAttribute, MapAttribute, NumberAttribute,
                                 TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection, LocalSecondaryIndex
from pynamodb.models import Model


class Address(MapAttribute):
    street = UnicodeAttribute(attr_name="s")
    zip_code = UnicodeAttribute(null=True)


class ByKind(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_kind"
        projection = KeysOnlyProjection()
    kind = UnicodeAttribute(hash_key=True)


class ByLocal(LocalSecondaryIndex):
    class Meta:
        projection = AllProjection()
    pk = UnicodeAttribute(hash_key=True)
    seen = UTCDateTimeAttribute(range_key=True)


class Looked:
    """A descriptor of no kind PynamoDB knows, giving an attribute."""
    def __get__(self, instance, owner):
        return UnicodeAttribute(null=True, attr_name="looked")


class Base(Model):
    class Meta:
        table_name = "base"
        region = "cn-north-1"
    pk = UnicodeAttribute(hash_key=True)
    sk = NumberAttribute(range_key=True)
    kind = DiscriminatorAttribute()
    version = VersionAttribute()
    expires = TTLAttribute(null=True)
    seen = UTCDateTimeAttribute(null=True, default=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    address = Address(null=True)
    tags = ListAttribute(of=UnicodeAttribute, null=True)
    by_kind = ByKind()
    by_local = ByLocal()

    def method(self):
        return 1

    @property
    def shown(self):
        return 2


class Child(Base, discriminator="child"):
    extra = UnicodeAttribute(null=True, attr_name="x")


class Described(Model):
    class Meta:
        table_name = "described"
    id = UnicodeAttribute(hash_key=True)
    looked = Looked()


class Mixin:
    mixed = UnicodeAttribute(null=True)
    pk = "not an attribute"


class Mixed(Model, Mixin):
    class Meta:
        table_name = "mixed"
    pk = UnicodeAttribute(hash_key=True)


class Shadowed(Mixin, Model):
    class Meta:
        table_name = "shadowed"
    id = UnicodeAttribute(hash_key=True)
'''


def test_rarer_features_are_set_up_the_same_either_way(tmp_path, monkeypatch):
    source = tmp_path / "rare_models.py"
    source.write_text(textwrap.dedent(RARE))
    spaces = [defined(lambda: runpy.run_path(str(source), run_name="rare_models"), fast, monkeypatch)
              for fast in (False, True)]
    assert classes(spaces[0]) == classes(spaces[1])
    assert [name for name, _ in described(spaces[1]["Base"])["attributes"]] == [
        "address", "expires", "kind", "pk", "seen", "sk", "tags", "version"]
    items = [space["Child"]("a", 1, extra="e", address={"street": "s"}, tags=["t"],
                            expires=datetime(2027, 1, 1, tzinfo=timezone.utc)) for space in spaces]
    assert items[0].serialize() == items[1].serialize()
    assert type(spaces[1]["Base"].from_raw_data(items[1].serialize())).__name__ == "Child"
    assert [name for name, _ in described(spaces[1]["Described"])["attributes"]] == ["id", "looked"]
    assert [name for name, _ in described(spaces[1]["Shadowed"])["attributes"]] == ["id", "mixed"]
    assert [name for name, _ in described(spaces[1]["Mixed"])["attributes"]] == ["mixed", "pk"]


def test_what_the_fast_path_cannot_vouch_for_goes_to_getmembers(monkeypatch):
    class Meta(type):
        def __dir__(cls):
            return ["x"]

    class Odd(metaclass=Meta):
        pass

    class Mixin:
        pass

    class AfterModel(Model, Mixin):  # a class of its own after the library's in the order of resolution
        pass

    calls = []
    monkeypatch.setattr(model_classes.inspect, "getmembers", lambda obj, predicate=None: calls.append(obj) or [])
    wanted = lambda o: isinstance(o, Attribute)
    anything = object()
    for obj in (Odd, AfterModel, anything):
        assert members(obj, wanted) == []
    assert members(Model, None) == []
    assert calls == [Odd, AfterModel, anything, Model]
    assert members(Model, wanted) == [] and len(calls) == 4  # the library's own classes: nothing to look at


def test_a_meta_instance_sets_a_model_and_its_index_up_as_a_meta_class_does():
    """`store.base.TableMeta`: PynamoDB fills in, reads and connects with an instance exactly as with a class."""
    from pynamodb.attributes import UnicodeAttribute

    from chalicelib.store.base import GlobalSecondaryIndex, TableMeta, index_meta, table_meta

    def made(as_class: bool):
        meta, by_kind_meta = table_meta("sample"), index_meta("by_kind")
        if as_class:
            meta = type("Meta", (), dict(vars(meta)))
            by_kind_meta = type("Meta", (), dict(vars(by_kind_meta)))

        class ByKind(GlobalSecondaryIndex):
            Meta = by_kind_meta
            kind = UnicodeAttribute(hash_key=True)

        class Sample(Model):
            Meta = meta
            id = UnicodeAttribute(hash_key=True)
            kind = UnicodeAttribute()
            by_kind = ByKind()

        connection = Sample._get_connection()
        return {"meta": {k: repr(v) for k, v in vars(Sample.Meta).items() if not k.startswith("__")},
                "index_meta": sorted(k for k in vars(ByKind.Meta) if not k.startswith("__")),
                "schema": repr(Sample._get_schema()), "described": described(Sample),
                "connection": (connection.table_name, connection.connection.region, connection.connection.host,
                               connection.connection._connect_timeout_seconds,
                               connection.connection._read_timeout_seconds,
                               connection.connection._max_retry_attempts_exception,
                               connection.connection._max_pool_connections)}

    as_class, as_instance = made(True), made(False)
    assert as_instance == as_class
    assert isinstance(table_meta("sample"), TableMeta) and "max_pool_connections" in as_instance["meta"]
