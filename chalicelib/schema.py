"""Input schemas for staff JSON bodies (输入校验): one schema per route, with types and limits.

    MENU = Obj({"meals": ..., "published": Bool(required=False)})
    body = MENU.check(read_json(request))   # BadRequest(400, code "invalid_field") naming the field

A value of the wrong type, too long, too many, out of range, not among the choices, or an unknown field
is refused with the field's path (`meals.lunch.dishes[3].price_fen`) in the message, before any use case
runs; nothing here touches storage.
"""
from __future__ import annotations

import re
from dataclasses import field
from datetime import date
from typing import Any, Mapping

from chalicelib.auth.errors import BadRequest
from chalicelib.domain.records import record


class Invalid(BadRequest):
    code = "invalid_field"


def _refuse(path: str, what: str, label: str = "") -> Invalid:
    return Invalid(f"字段 {path or '（请求体）'}{f'（{label}）' if label else ''} {what}")


@record
class Text:
    max_len: int = 200
    required: bool = True
    label: str = ""  # what staff call it, in the message
    min_len: int = 1
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    what: str = ""  # the expected form, for the message

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _refuse(path, "应为字符串", self.label)
        if not self.min_len <= len(value) <= self.max_len:
            raise _refuse(path, f"长度应为 {self.min_len} 到 {self.max_len} 个字符", self.label)
        if self.choices and value not in self.choices:
            raise _refuse(path, f"只能是：{'、'.join(self.choices)}", self.label)
        if self.pattern and not re.fullmatch(self.pattern, value):
            raise _refuse(path, f"格式不对{('，应为 ' + self.what) if self.what else ''}", self.label)
        return value


@record
class Int:
    min: int = 0
    max: int = 1_000_000
    required: bool = True
    label: str = ""  # what staff call it, in the message

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse(path, "应为整数", self.label)
        if not self.min <= value <= self.max:
            raise _refuse(path, f"应在 {self.min} 到 {self.max} 之间", self.label)
        return value


@record
class Bool:
    required: bool = True
    label: str = ""  # what staff call it, in the message

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            raise _refuse(path, "应为 true 或 false", self.label)
        return value


@record
class Day:
    required: bool = True
    label: str = ""  # what staff call it, in the message

    def check(self, value: Any, path: str) -> Any:
        Text(10, pattern=r"\d{4}-\d{2}-\d{2}", what="YYYY-MM-DD").check(value, path)
        try:
            date.fromisoformat(value)
        except ValueError:
            raise _refuse(path, "不是有效的日期") from None
        return value


@record
class List:
    item: Any
    max_items: int = 50
    required: bool = True
    label: str = ""  # what staff call it, in the message

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _refuse(path, "应为数组", self.label)
        if len(value) > self.max_items:
            raise _refuse(path, f"最多 {self.max_items} 项", self.label)
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]


@record
class Obj:
    fields: Mapping[str, Any] = field(default_factory=dict)
    required: bool = True
    label: str = ""  # what staff call it, in the message
    allow_null: tuple[str, ...] = ()  # fields that may be JSON null (treated as absent)

    def check(self, value: Any, path: str = "") -> dict[str, Any]:
        if not isinstance(value, dict):
            raise _refuse(path, "应为对象", self.label)
        unknown = [k for k in value if k not in self.fields]
        if unknown:
            raise _refuse(_join(path, str(unknown[0])[:40]), "不认识（多余的字段）")
        clean: dict[str, Any] = {}
        for name, spec in self.fields.items():
            where = _join(path, name)
            if name not in value or (value[name] is None and name in self.allow_null):
                if spec.required:
                    raise _refuse(where, "缺失", spec.label)
                continue
            clean[name] = spec.check(value[name], where)
        return clean


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
