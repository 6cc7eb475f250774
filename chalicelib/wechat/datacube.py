"""`DataCube` (数据统计) over an account's WeChat API client: the adapter of `domain.statistics.DataCube`."""
from __future__ import annotations

from datetime import date

from chalicelib.wechat.client import client_for


class WeChatDataCube:
    """`DataCube` over an account's wechatpy client."""

    def __init__(self, account_id: str):
        self._cube = client_for(account_id).datacube

    def user_summary(self, day: date) -> list[dict]:
        return self._cube.get_user_summary(day, day)

    def user_cumulate(self, day: date) -> list[dict]:
        return self._cube.get_user_cumulate(day, day)

    def article_summary(self, day: date) -> list[dict]:
        return self._cube.get_article_summary(day, day)
