"""The alliance's settings edited by staff, one item per scope: the district's menu template and
convenience links, each community's menu overrides.

    menu#district#<id>        the district's menu template (+ public_base)
    menu#community#<id>       a community's overrides
    links#district#<id>       convenience and partner links (在线读报's date pattern …)
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta


class AllianceSetting(Model):
    Meta = table_meta("alliance_settings")
    setting_key = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute()  # JSON
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)


def read(key: str) -> dict[str, Any] | None:
    try:
        return json.loads(AllianceSetting.get(key).body)
    except AllianceSetting.DoesNotExist:
        return None


def read_many(keys: list[str]) -> dict[str, dict[str, Any]]:
    return {s.setting_key: json.loads(s.body) for s in AllianceSetting.batch_get(keys)} if keys else {}


def write(key: str, body: dict[str, Any], actor: str) -> None:
    AllianceSetting(key, body=json.dumps(body, ensure_ascii=False), updated_by=actor, updated_at=clock.now()).save()
