"""The alliance matrix (联盟矩阵) of a district, stored as ONE compact, versioned item.

Searches and the H5 page read this item (one GetItem, cached a minute per container by
`store.ports.DynamoPorts.matrix`), never the accounts one by one. Staff edits rewrite it with a condition
on the version they read (optimistic locking), so two editors at once cannot lose each other's change.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from chalicelib import clock
from chalicelib.domain.errors import ConflictError, NotFound
from chalicelib.domain.matrix import MatrixEntry, MatrixIndex, sort_entries
from chalicelib.store.base import table_meta

MAX_INDEX_BYTES = 350_000  # DynamoDB's item limit is 400 KB; well over 1,000 entries fit
EDIT_RETRIES = 3


class MatrixItem(Model):
    """The district's matrix: compact JSON of every entry (see `domain.matrix.MatrixIndex.to_json`)."""

    Meta = table_meta("matrix")
    district_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)
    entries = UnicodeAttribute(default="[]")
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)


def load_index(district_id: str, consistent: bool = False) -> MatrixIndex:
    """The district's index (an empty one, version 0, when nothing was stored yet)."""
    try:
        item = MatrixItem.get(district_id, consistent_read=consistent)
    except MatrixItem.DoesNotExist:
        return MatrixIndex(district_id, 0, ())
    return MatrixIndex.from_json(district_id, int(item.version), item.entries)


def save_index(index: MatrixIndex, actor: str) -> MatrixIndex:
    """Write `index` as the next version, only if the stored version is still `index.version`."""
    text = index.to_json()
    if len(text.encode("utf-8")) > MAX_INDEX_BYTES:
        raise ConflictError("联盟矩阵已经太大，请先删除不再使用的账号", code="matrix_too_large")
    item = MatrixItem(index.district_id, version=index.version + 1, entries=text, updated_by=actor,
                      updated_at=clock.now())
    condition = MatrixItem.district_id.does_not_exist() if index.version == 0 else \
        (MatrixItem.version == index.version)
    item.save(condition=condition)
    return MatrixIndex(index.district_id, index.version + 1, index.entries)


def _edit(district_id: str, actor: str, change) -> MatrixIndex:
    for attempt in range(EDIT_RETRIES):
        current = load_index(district_id, consistent=True)
        try:
            return save_index(change(current), actor)
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
    raise ConflictError("联盟矩阵刚被别人修改，请刷新后再试", code="stale_matrix")


def put_entry(district_id: str, entry: MatrixEntry, actor: str) -> MatrixIndex:
    return _edit(district_id, actor, lambda index: index.with_entry(entry))


def delete_entry(district_id: str, entry_id: str, actor: str) -> MatrixIndex:
    def change(index: MatrixIndex) -> MatrixIndex:
        if index.get(entry_id) is None:
            raise NotFound("矩阵里没有这个账号")
        return index.without(entry_id)
    return _edit(district_id, actor, change)


def replace_all(district_id: str, entries: list[MatrixEntry], actor: str) -> MatrixIndex:
    """The seed: the whole matrix at once (loading twice gives the same entries)."""
    return _edit(district_id, actor, lambda index: MatrixIndex(district_id, index.version,
                                                               tuple(sort_entries(entries))))
