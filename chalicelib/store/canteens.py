"""Community canteens (社区食堂) and elder meal points (长者助餐点)."""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta

CANTEEN_KINDS = {"community_canteen": "社区食堂", "elder_meal_point": "长者助餐点"}
MEALS = {"breakfast": "早餐", "lunch": "午餐", "dinner": "晚餐"}


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
    # JSON: meal (a key of MEALS) -> {"opens": "11:00", "closes": "13:00", "delivery_capacity": 30}, Shanghai time
    meals = UnicodeAttribute(default="{}")
    order_cutoff = UnicodeAttribute()  # HH:MM the day before, Asia/Shanghai
    delivery_grids = ListAttribute(of=UnicodeAttribute, default=list)
    elder_subsidy_fen = NumberAttribute(default=0)
    updated_at = UTCDateTimeAttribute(default=clock.now)

    by_community = CanteensByCommunity()


class Menu(Model):
    """A canteen's menu of one Shanghai day: meal -> dishes and set meals (JSON), published or draft.

    `meals` JSON: {"lunch": {"dishes": [{"name": "梅菜扣肉", "price_fen": 1200, "marks": ["软烂"]}],
    "sets": [{"name": "老年套餐", "price_fen": 1500, "dishes": ["梅菜扣肉", "米饭"]}]}, …}
    """

    Meta = table_meta("menus")
    canteen_id = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)  # YYYY-MM-DD
    meals = UnicodeAttribute(default="{}")
    published = BooleanAttribute(default=False)
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)
