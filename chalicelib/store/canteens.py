"""Community canteens (社区食堂) and elder meal points (长者助餐点)."""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta, utcnow

CANTEEN_KINDS = {"community_canteen": "社区食堂", "elder_meal_point": "长者助餐点"}
MEALS = {"breakfast": "早餐", "lunch": "午餐", "dinner": "晚餐"}


class MealHours(MapAttribute):
    opens = UnicodeAttribute()  # HH:MM, Asia/Shanghai
    closes = UnicodeAttribute()
    delivery_capacity = NumberAttribute(default=0)


class CanteensByCommunity(GlobalSecondaryIndex):
    Meta = index_meta("by_community")
    community_id = UnicodeAttribute(hash_key=True)
    canteen_id = UnicodeAttribute(range_key=True)


class Canteen(Model):
    """食堂: opening hours and delivery capacity per meal, order cut-off the day before."""

    Meta = table_meta("canteens")
    canteen_id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()  # a key of CANTEEN_KINDS
    address = UnicodeAttribute()
    meals = MapAttribute(of=MealHours)  # meal name (a key of MEALS) -> hours
    order_cutoff = UnicodeAttribute()  # HH:MM the day before, Asia/Shanghai
    delivery_grids = ListAttribute(of=UnicodeAttribute, default=list)
    elder_subsidy_fen = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(default=utcnow)

    by_community = CanteensByCommunity()
