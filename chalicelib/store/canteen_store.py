"""Reading and writing canteen menus and the delivery lists for staff (a get or a query on a key, never a scan)."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from chalicelib.store.canteens import Menu
from chalicelib.store.ports import RULES_CACHE, canteen_view
from chalicelib.store.requests import HelpRequest

__all__ = ["canteen", "copy_menus", "deliveries", "save_menu"]

canteen = canteen_view


def save_menu(canteen_id: str, day: date, meals: dict[str, Any], published: bool, by: str, at: datetime) -> None:
    Menu(canteen_id, day.isoformat(), meals=json.dumps(meals, ensure_ascii=False), published=published,
         updated_by=by, updated_at=at).save()
    RULES_CACHE.clear()


def copy_menus(canteen_id: str, source: list[date], target: list[date], published: bool, by: str,
               at: datetime) -> list[str]:
    """Copy the menus of the `source` days onto the `target` days (pairwise); the days copied."""
    found = {m.day: m for m in Menu.query(canteen_id, Menu.day.between(source[0].isoformat(),
                                                                       source[-1].isoformat()))}
    copied = []
    with Menu.batch_write() as batch:
        for src, dst in zip(source, target):
            menu = found.get(src.isoformat())
            if menu is None:
                continue
            batch.save(Menu(canteen_id, dst.isoformat(), meals=menu.meals, published=published, updated_by=by,
                            updated_at=at))
            copied.append(dst.isoformat())
    RULES_CACHE.clear()
    return copied


def deliveries(key: str) -> list:
    """The meal orders of one meal (`canteen#day#meal`), from the sparse `by_delivery` index."""
    return list(HelpRequest.by_delivery.query(key))
