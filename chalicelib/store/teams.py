"""Service teams (服务队) of a community: the people a 便民纸条 is routed to."""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import table_meta

TEAM_KINDS = {
    "comprehensive": "综合服务队",
    "professional": "专业服务队",
    "service_station": "便民服务站",
    "service_365": "365便民服务队",
    "bangdaojia": "帮到家社区工作站",
    "volunteer": "志愿者服务队",
    "resident_unit": "驻街道单位",
}


class Team(Model):
    """服务队: belongs to one community; queried by community."""

    Meta = table_meta("teams")
    community_id = UnicodeAttribute(hash_key=True)
    team_id = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # a key of TEAM_KINDS
    name = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=clock.now)
