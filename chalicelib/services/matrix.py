"""The alliance matrix's use cases (联盟矩阵): residents browse it, district staff edit it.

Reads go to the compact index (`bootstrap.ports().matrix`: its head, and for a search one shard, cached a
minute); edits rewrite it with a version check (`bootstrap.alliance()`) and are seen by warm Lambdas within
the cache's minute. In a large district the communities' entries are not listed whole: residents search
them by name (`more_communities` says how many there are).
"""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import require
from chalicelib.domain.matrix import (CATEGORIES, PLATFORMS, SHARDED_CATEGORY, MatrixIndex, entry_from_dict,
                                      entry_to_json, search)


def browse(district_id: str, category: str | None = None, query: str | None = None) -> dict[str, Any]:
    """What the H5 page shows: entries by category, narrowed by a category and/or a search; when the
    district's community entries are too many to list (or a search too general to name them),
    `more_communities` is their count instead."""
    index: MatrixIndex = bootstrap.ports().matrix(district_id, query or None)
    entries = list(index.entries)
    if query:
        entries = search(index, query)
    if category in CATEGORIES:
        entries = [e for e in entries if e.category == category]
    grouped: dict[str, list] = {}
    for e in entries:
        grouped.setdefault(e.category, []).append(e)
    unlisted = 0 if index.complete or category not in (None, SHARDED_CATEGORY) else index.sharded_count()
    return {"total": index.total, "version": index.version, "categories": list(CATEGORIES),
            "groups": [(c, grouped[c]) for c in CATEGORIES if c in grouped], "found": len(entries),
            "more_communities": unlisted}


STAFF_PAGE = 200  # community entries a page of a large district's staff list


def directory(principal: Principal, query: str | None = None, cursor: str | None = None) -> dict[str, Any]:
    """Staff: the district's matrix (any member of staff may read it: it is public). Held in one item,
    every entry (the console filters it). A large district's: with `query` the entries the search finds
    (`searched`), else the other entries and a page of the communities' (`cursor` for the next)."""
    alliance = bootstrap.alliance()
    head = alliance.load_head(principal.district_id, consistent=True)
    answer: dict[str, Any] = {"version": head.version, "categories": list(CATEGORIES), "platforms": PLATFORMS,
                              "total": head.total, "cursor": None}
    query = (query or "").strip()[:30]
    if not head.generation:
        return {**answer, "items": [entry_to_json(e) for e in head.entries]}
    if query:
        index = alliance.lookup(principal.district_id, query)
        return {**answer, "items": [entry_to_json(e) for e in search(index, query)], "searched": True,
                "complete": index.complete}
    page, answer["cursor"] = alliance.entries_page(principal.district_id, head.generation, STAFF_PAGE, cursor)
    return {**answer, "items": [entry_to_json(e) for e in ([] if cursor else list(head.entries)) + page]}


def save_entry(principal: Principal, entry_id: str, body: Any) -> dict[str, Any]:
    require(principal, "matrix.edit")
    entry = entry_from_dict(body, entry_id)
    index = bootstrap.alliance().put_entry(principal.district_id, entry, principal.username)
    return {"version": index.version, "item": entry_to_json(entry)}


def remove_entry(principal: Principal, entry_id: str) -> dict[str, Any]:
    require(principal, "matrix.edit")
    index = bootstrap.alliance().delete_entry(principal.district_id, entry_id, principal.username)
    return {"version": index.version, "deleted": entry_id}
