"""The alliance matrix's use cases (联盟矩阵): residents browse it, district staff edit it.

Reads go to the compact index (`bootstrap.ports().matrix`, cached a minute); edits rewrite it with a
version check (`bootstrap.alliance()`) and are seen by warm Lambdas within the cache's minute.
"""
from __future__ import annotations

from typing import Any

from chalicelib import bootstrap
from chalicelib.auth.principal import Principal
from chalicelib.auth.scope import require
from chalicelib.domain.matrix import CATEGORIES, PLATFORMS, MatrixIndex, entry_from_dict, entry_to_json, search


def browse(district_id: str, category: str | None = None, query: str | None = None) -> dict[str, Any]:
    """What the H5 page shows: entries by category, narrowed by a category and/or a search."""
    index: MatrixIndex = bootstrap.ports().matrix(district_id)
    entries = list(index.entries)
    if query:
        entries = search(index, query)
    if category in CATEGORIES:
        entries = [e for e in entries if e.category == category]
    grouped: dict[str, list] = {}
    for e in entries:
        grouped.setdefault(e.category, []).append(e)
    return {"total": len(index.entries), "version": index.version, "categories": list(CATEGORIES),
            "groups": [(c, grouped[c]) for c in CATEGORIES if c in grouped], "found": len(entries)}


def directory(principal: Principal) -> dict[str, Any]:
    """Staff: the whole matrix of the district (any member of staff may read it: it is public)."""
    index = bootstrap.alliance().load_index(principal.district_id, consistent=True)
    return {"version": index.version, "categories": list(CATEGORIES), "platforms": PLATFORMS,
            "items": [entry_to_json(e) for e in index.entries]}


def save_entry(principal: Principal, entry_id: str, body: Any) -> dict[str, Any]:
    require(principal, "matrix.edit")
    entry = entry_from_dict(body, entry_id)
    index = bootstrap.alliance().put_entry(principal.district_id, entry, principal.username)
    return {"version": index.version, "item": entry_to_json(entry)}


def remove_entry(principal: Principal, entry_id: str) -> dict[str, Any]:
    require(principal, "matrix.edit")
    index = bootstrap.alliance().delete_entry(principal.district_id, entry_id, principal.username)
    return {"version": index.version, "deleted": entry_id}
