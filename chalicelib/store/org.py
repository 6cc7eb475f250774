"""The district's organisation: district (区) → sub-districts (街道) → communities (社区), and partner
departments (部门对接)."""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta


class District(Model):
    """区: the top of the tree (Shinan, 市南区)."""

    Meta = table_meta("districts")
    district_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    city = UnicodeAttribute()
    code = UnicodeAttribute(default="SN")  # letters of requests filed with the district's own account
    updated_at = UTCDateTimeAttribute(default=clock.now)


class SubDistrict(Model):
    """街道: reviews its communities' posts and receives escalations."""

    Meta = table_meta("subdistricts")
    district_id = UnicodeAttribute(hash_key=True)
    subdistrict_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=clock.now)


class CommunitiesBySubDistrict(GlobalSecondaryIndex):
    Meta = index_meta("by_subdistrict")
    subdistrict_id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute(range_key=True)


class CommunitiesByDistrict(GlobalSecondaryIndex):
    Meta = index_meta("by_district")
    district_id = UnicodeAttribute(hash_key=True)
    community_id = UnicodeAttribute(range_key=True)


class Community(Model):
    """社区: owns an official account, teams, canteens, and the residents' requests."""

    Meta = table_meta("communities")
    community_id = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    subdistrict_id = UnicodeAttribute()
    name = UnicodeAttribute()
    code = UnicodeAttribute()  # short letters in public request numbers, e.g. XG-20261127-0042
    grids = ListAttribute(of=UnicodeAttribute, default=list)  # 网格
    # The canteen that serves its residents (`domain.canteen.serving_canteen`), "" when it has none: written
    # with its canteens, it rides along with the account's facts on a cold callback. Absent on an item
    # written before it existed (then the canteens are read from `Canteen.by_community`).
    canteen_id = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)

    by_subdistrict = CommunitiesBySubDistrict()
    by_district = CommunitiesByDistrict()


class Department(Model):
    """部门对接: a partner department that requests can be routed to (消费维权e家, 张玉法官工作室 …)."""

    Meta = table_meta("departments")
    district_id = UnicodeAttribute(hash_key=True)
    department_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute(default=clock.now)
