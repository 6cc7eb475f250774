"""`DataCube` (数据统计) over an account's WeChat API client: the adapter of `domain.statistics.DataCube`."""
from __future__ import annotations

from datetime import date

from chalicelib.wechat.client import client_for


class WeChatDataCube:
    """`DataCube` over an account's wechatpy client (which checks nothing of the ranges: the domain does)."""

    def __init__(self, account_id: str):
        self._cube = client_for(account_id).datacube

    def user_summary(self, begin: date, end: date) -> list[dict]:
        return self._cube.get_user_summary(begin, end)

    def user_cumulate(self, begin: date, end: date) -> list[dict]:
        return self._cube.get_user_cumulate(begin, end)

    def user_read(self, begin: date, end: date) -> list[dict]:
        return self._cube.get_user_read(begin, end)

    def article_total(self, day: date) -> list[dict]:
        return self._cube.get_article_total(day, day)
