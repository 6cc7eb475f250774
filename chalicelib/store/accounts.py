"""Official accounts (公众号): one per community plus the district's 微市南.

The table holds only public facts of an account. Its AppSecret, Token and EncodingAESKey are SSM
SecureString parameters (`chalicelib.secrets`).
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.store.base import GlobalSecondaryIndex, index_meta, table_meta

ACCOUNT_TYPES = ("subscription", "service")  # 订阅号, 服务号
ENCRYPTION_MODES = ("plain", "compatible", "safe")  # 明文, 兼容, 安全模式


class AccountsByDistrict(GlobalSecondaryIndex):
    Meta = index_meta("by_district")
    district_id = UnicodeAttribute(hash_key=True)
    account_id = UnicodeAttribute(range_key=True)


class Account(Model):
    """公众号: the callback URL is /wechat/{account_id}."""

    Meta = table_meta("accounts")
    account_id = UnicodeAttribute(hash_key=True)
    district_id = UnicodeAttribute()
    community_id = UnicodeAttribute(null=True)  # None for the district's own account (微市南)
    name = UnicodeAttribute()
    account_type = UnicodeAttribute()  # one of ACCOUNT_TYPES
    appid = UnicodeAttribute()
    original_id = UnicodeAttribute()  # gh_…, the ToUserName of callbacks
    encryption_mode = UnicodeAttribute()  # one of ENCRYPTION_MODES
    # purpose -> {"kind": "template"|"subscribe", "template_id": …, "fields": {template key: message field}}:
    # how to reach a resident when WeChat's 48-hour customer-service window is shut.
    notify_templates = UnicodeAttribute(default="{}")
    post_time = UnicodeAttribute(null=True)  # HH:MM, the daily post's time (北京时间); None: the district's 08:00
    updated_at = UTCDateTimeAttribute(default=clock.now)

    by_district = AccountsByDistrict()
