"""`@record` behaves as `@dataclass(frozen=True)`: each case runs against both and compares."""
from __future__ import annotations

import dataclasses
import pickle
import re
import subprocess
import sys
from pathlib import Path
from dataclasses import field

import pytest

from chalicelib.domain.records import record


def both(body: str) -> list[type]:
    """The same class body under the two decorators."""
    made = []
    for decorator in (dataclasses.dataclass(frozen=True), record):
        space: dict = {"field": field}
        exec(f"class Sample:\n    '''A sample.'''\n{body}", space)
        made.append(decorator(space["Sample"]))
    return made


BODY = """
    number: str
    count: int = 0
    tags: dict = field(default_factory=dict)
    secret: str = field(default="s", repr=False)
    note: str = field(default="", compare=False)
"""


def outcome(call):
    try:
        return "ok", call()
    except TypeError as exc:
        # The wording differs only in how the class is named; what went wrong must be the same.
        return "TypeError", re.sub(r"^\S+\(\)", "", str(exc))


@pytest.mark.parametrize("args, kwargs", [
    (("A-1",), {}),
    (("A-1", 3), {"tags": {"x": 1}}),
    ((), {"number": "A-1", "note": "n"}),
    (("A-1", 3, {}, "t", "n"), {}),
])
def test_construction_repr_equality_and_hash_match_a_frozen_dataclass(args, kwargs):
    real, ours = both(BODY)
    a, b = real(*args, **kwargs), ours(*args, **kwargs)
    assert repr(a) == repr(b)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert [f.name for f in dataclasses.fields(a)] == [f.name for f in dataclasses.fields(b)]
    assert b == ours(*args, **kwargs) and b == dataclasses.replace(b, note="another")  # note is not compared
    assert b != dataclasses.replace(b, count=99) and b != a  # another class is never equal
    assert dataclasses.replace(b, count=5).count == 5 and dataclasses.is_dataclass(b)
    try:
        hash(a)
    except TypeError:  # a dict among the hashed fields: both refuse
        with pytest.raises(TypeError):
            hash(b)
    else:
        assert hash(b) == hash(ours(*args, **kwargs))
    assert b.__match_args__ == a.__match_args__


@pytest.mark.parametrize("args, kwargs", [
    ((), {}),
    (("A-1",), {"number": "B"}),
    (("A-1", 1, {}, "s", "n", "extra"), {}),
    (("A-1",), {"unknown": 1}),
])
def test_wrong_calls_fail_as_a_dataclass_fails(args, kwargs):
    real, ours = both(BODY)
    got_real, got_ours = outcome(lambda: real(*args, **kwargs)), outcome(lambda: ours(*args, **kwargs))
    assert got_real[0] == got_ours[0] == "TypeError"
    assert got_real[1].split("() ", 1)[-1] == got_ours[1].split("() ", 1)[-1]


def test_missing_arguments_are_listed_as_python_lists_them():
    real, ours = both("    a: int\n    b: int\n    c: int\n")
    assert outcome(real)[1].split("() ", 1)[-1] == outcome(ours)[1].split("() ", 1)[-1]
    assert "missing 3 required positional arguments: 'a', 'b', and 'c'" in outcome(ours)[1]


def test_instances_are_frozen():
    _, ours = both(BODY)
    item = ours("A-1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.count = 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        del item.count
    assert item.count == 0


def test_factories_give_each_instance_its_own_value_and_post_init_and_init_false_fields_run():
    _, ours = both(BODY)
    first, second = ours("A"), ours("B")
    assert first.tags == {} and first.tags is not second.tags

    @record
    class Derived:
        value: int
        double: int = field(init=False, default=0)
        seen: list = field(init=False, default_factory=list)

        def __post_init__(self):
            object.__setattr__(self, "double", self.value * 2)

    item = Derived(4)
    assert (item.double, item.seen) == (8, [])
    assert repr(item) == "test_factories_give_each_instance_its_own_value_and_post_init_and_init_false_fields_" \
                         "run.<locals>.Derived(value=4, double=8, seen=[])"
    with pytest.raises(TypeError):
        Derived(4, 5)


@record
class Pickled:
    name: str
    size: int = 1


def test_records_pickle_and_hash_in_sets():
    item = Pickled("a", 2)
    assert pickle.loads(pickle.dumps(item)) == item
    assert {Pickled("a", 2), Pickled("a", 2), Pickled("b")} == {Pickled("a", 2), Pickled("b", 1)}


def test_the_platform_defines_its_value_types_as_records():
    """A plain `@dataclass(frozen=True)` in chalicelib costs a cold start ~0.5 ms each (see records.py)."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent / "chalicelib"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "@dataclass(frozen=True)" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_string_annotations_give_the_same_fields_as_a_frozen_dataclass():
    """Under `from __future__ import annotations` (every module of the platform) annotations are strings;
    `record` takes a shortcut for them, and ClassVar / InitVar still behave as dataclass has them."""
    made = []
    for decorator in (dataclasses.dataclass(frozen=True), record):
        space: dict = {"field": field}
        exec("from __future__ import annotations\n"
             "from typing import ClassVar\n"
             "import dataclasses\n"
             "class Base:\n    '''A base.'''\n    number: str\n    count: int = 0\n"
             "class Sample(Base):\n    '''A sample.'''\n    tags: dict[str, int] = field(default_factory=dict)\n"
             "    note: 'str | None' = field(default=None, compare=False)\n"
             "class Counted:\n    '''With a class variable.'''\n    name: str\n    LIMIT: ClassVar[int] = 3\n",
             space)
        base = decorator(space["Base"])
        space["Base"] = base
        sample = decorator(type("Sample", (base,), {k: v for k, v in vars(space["Sample"]).items()
                                                    if k not in ("__dict__", "__weakref__")}))
        made.append((base, sample, decorator(space["Counted"])))
    for real, ours in zip(*made):
        assert [(f.name, f.type, f.default, f.compare, f.init) for f in dataclasses.fields(real)] == \
            [(f.name, f.type, f.default, f.compare, f.init) for f in dataclasses.fields(ours)]
        assert real.__annotations__ == ours.__annotations__
    real_sample, our_sample = made[0][1], made[1][1]
    assert repr(real_sample("A", 1)) == repr(our_sample("A", 1))
    assert our_sample("A", tags={"x": 1}).tags == {"x": 1} and made[1][2]("n").LIMIT == 3


def _introspected(cls: type) -> dict:
    """All that `dataclass` leaves on a class, for comparing the two ways `record` collects fields."""
    return {
        "fields": [(name, f.name, f.type, repr(f.default), f.default_factory, f.init, f.repr, f.hash, f.compare,
                    dict(f.metadata), f.kw_only, f._field_type is dataclasses._FIELD)
                   for name, f in cls.__dict__["__dataclass_fields__"].items()],
        "params": repr(cls.__dict__["__dataclass_params__"]),
        "match_args": cls.__dict__.get("__match_args__"),
        "class_attributes": {name: repr(value) for name, value in vars(cls).items()
                             if not name.startswith("__") and not callable(value)},
        "annotations": cls.__annotations__,
    }


PLAIN_BODIES = [
    BODY,
    "    a: int\n    b: 'list[str]' = field(default_factory=list, metadata={'unit': 'x'})\n"
    "    c: str = field(default='c', init=False, hash=False)\n    d: str = field(default='d', kw_only=True)\n",
    "    only: str = field(repr=False)\n    __match_args__ = ('only',)\n",
]


@pytest.mark.parametrize("body", PLAIN_BODIES)
def test_plain_string_annotations_take_the_short_way_to_the_same_fields(body, monkeypatch):
    """`_plain_fields` gives a class exactly what `dataclass(init=False, repr=False, eq=False)` gives it."""
    from chalicelib.domain import records

    made = {}
    for short in (True, False):
        with monkeypatch.context() as patch:
            if not short:
                patch.setattr(records, "_plain_fields", lambda cls, annotations: False)
            space: dict = {"field": field}
            exec(f"from __future__ import annotations\nclass Sample:\n    '''A sample.'''\n{body}", space)
            made[short] = record(space["Sample"])
    assert _introspected(made[True]) == _introspected(made[False])
    assert dataclasses.fields(made[True]) and dataclasses.is_dataclass(made[True])


@pytest.mark.parametrize("body, error", [
    ("    tags: dict = {}\n", ValueError),  # a mutable default
    ("    name: str\n    loose = field(default=1)\n", TypeError),  # a field without an annotation
])
def test_what_dataclass_refuses_is_refused_alike(body, error):
    space: dict = {"field": field}
    exec(f"from __future__ import annotations\nclass Sample:\n    '''A sample.'''\n{body}", space)
    with pytest.raises(error):
        record(space["Sample"])


def test_the_platforms_records_take_the_short_way():
    """Every record `import app` defines gets its fields without `dataclass`'s field by field checks."""
    script = ("from chalicelib.domain import records\n"
              "taken = []\n"
              "short = records._plain_fields\n"
              "records._plain_fields = lambda cls, notes: taken.append((cls.__qualname__, short(cls, notes))) or taken[-1][1]\n"
              "import app\n"
              "assert len(taken) > 50 and all(ok for _, ok in taken), [name for name, ok in taken if not ok]\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "STAGE": "test",
                                                       "AWS_DEFAULT_REGION": "cn-north-1"})
    assert done.returncode == 0, done.stderr


def test_a_record_that_is_not_frozen_behaves_as_a_plain_dataclass():
    made = []
    for decorator in (dataclasses.dataclass, record(frozen=False)):
        space: dict = {"field": field}
        exec(f"from __future__ import annotations\nclass Sample:\n    '''A sample.'''\n{BODY}", space)
        made.append(decorator(space["Sample"]))
    real, ours = made
    a, b = real("A-1", 2), ours("A-1", 2)
    assert repr(a) == repr(b) and dataclasses.asdict(a) == dataclasses.asdict(b)
    assert real.__hash__ is ours.__hash__ is None  # unhashable, as a dataclass with eq and not frozen
    with pytest.raises(TypeError):
        hash(b)
    a.count += 5
    b.count += 5
    del b.note
    assert b.count == 7 and "note" not in b.__dict__ and b.note == ""  # the class default shows again
    b.note = "n"
    assert b == ours("A-1", 7, note="other") and b != ours("A-1", 8)  # note is not compared
    assert dataclasses.replace(b, count=1).count == 1 and b.__match_args__ == a.__match_args__
    assert outcome(lambda: real())[1].split("() ", 1)[-1] == outcome(lambda: ours())[1].split("() ", 1)[-1]
