"""`push-menus`: every account's custom menu (the district's template with the community's overrides),
pushed only where it differs from what WeChat's `menu/get` returns; prints the report (changed /
unchanged / failed with WeChat's error). Run it again: nothing is pushed twice."""
from __future__ import annotations

from chalicelib.config import settings
from chalicelib.services import menus


def run() -> dict:
    return menus.push_all(settings().district_id)
