"""`push-menus`: every account's custom menu (the district's template with the community's overrides),
pushed only where it differs from what WeChat's `menu/get` returns; prints the report (changed /
unchanged / failed with WeChat's error). Run it again: nothing is pushed twice."""
from __future__ import annotations

from chalicelib.config import settings
from chalicelib.services import menus
from chalicelib.store.accounts import Account
from chalicelib.store.ports import gateway_account


def run() -> dict:
    district_id = settings().district_id
    accounts = [gateway_account(a.account_id) for a in Account.by_district.query(district_id)]
    return menus.push_all(district_id, [a.view for a in accounts if a is not None])
