"""The alliance matrix (联盟矩阵) of a district: a compact, versioned index (see `domain.matrix`).

Two tables. `MatrixItem` (key `district_id`) is the *head*: the version, the shards' generation, the
entries that are not communities' (every entry while the district has at most `INLINE_COMMUNITIES`
community entries: then the head is the whole matrix, one item), the stop grams and the count of
community entries — compressed JSON, about 20 KB for a district of 10,000 communities. `MatrixPart`
(key `district_id`, `part`) holds, per generation, each community entry once (`<gen>#e#<entry_id>`, the
staff list and edits read it) and one *shard* per gram (`<gen>#g#<gram>`: the entries holding that gram,
at most `STOP_AT` when built, compressed).

Reads: a search is GetItem(head) + at most one GetItem(shard), both cached a minute per container by
`store.ports.DynamoPorts.matrix` — never the district's entries.

Writes keep optimistic locking. Every edit commits with a condition on the head's version it read, in
one transaction with the entry's own item, so two editors at once cannot lose each other's change (the
loser re-reads and re-applies, `EDIT_RETRIES` times). A community entry's edit first rewrites the shards
it leaves and joins, each with a condition on the shard's own version; that is idempotent per entry id,
so a retried or repeated edit converges. The stop grams stay as built until the next rebuild.
`replace_all` (the seed) writes a NEW generation with batch writes, then flips the head to it; the
previous generation stays `RETIRE_AFTER` (heads cached a minute still name it) and is deleted by a later
rebuild. Loading the same entries twice writes nothing (the head keeps their digest).
"""
from __future__ import annotations

import json
import zlib
from datetime import datetime, timedelta

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib import clock
from chalicelib.domain.errors import ConflictError, NotFound
from chalicelib.domain.matrix import (INLINE_COMMUNITIES, MatrixEntry, MatrixIndex, build_shards, digest,
                                      entries_from_rows, entry_grams, entry_rows, is_sharded, sort_entries,
                                      stop_grams)
from chalicelib.store import page_tokens
from chalicelib.store.base import table_meta, transaction_connection

MAX_INDEX_BYTES = 350_000  # DynamoDB's item limit is 400 KB; compressed, thousands of entries fit
EDIT_RETRIES = 3
SHARD_RETRIES = 5
RETIRE_AFTER = timedelta(minutes=10)  # a replaced generation's items outlive every cached head naming it


class MatrixItem(Model):
    """The district's matrix head (see the module's docstring)."""

    Meta = table_meta("matrix")
    district_id = UnicodeAttribute(hash_key=True)
    version = NumberAttribute(default=0)
    entries = UnicodeAttribute(default="[]")  # items written before `packed`: every entry, compact JSON
    packed = BinaryAttribute(null=True, legacy_encoding=False)  # zlib JSON {"e": entries, "s": stop, "n": counts}
    generation = NumberAttribute(default=0)  # the shards' generation (0: no shards)
    digest = UnicodeAttribute(null=True)  # of the entries `replace_all` wrote (None after an edit)
    retired = UnicodeAttribute(null=True)  # JSON [[generation, ISO time it was replaced], ...]
    updated_by = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=clock.now)


class MatrixPart(Model):
    """A community entry (`<gen>#e#<entry_id>`) or a shard (`<gen>#g#<gram>`) of a district's matrix."""

    Meta = table_meta("matrix_parts")
    district_id = UnicodeAttribute(hash_key=True)
    part = UnicodeAttribute(range_key=True)
    packed = BinaryAttribute(legacy_encoding=False)  # zlib compact JSON list of entries
    version = NumberAttribute(default=0)


def _pack(data) -> bytes:
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 9)


def _unpack(blob: bytes):
    return json.loads(zlib.decompress(blob).decode("utf-8"))


def entry_key(generation: int, entry_id: str) -> str:
    return f"{generation:05d}#e#{entry_id}"


def shard_key(generation: int, gram: str) -> str:
    return f"{generation:05d}#g#{gram}"


# ---- reads -----------------------------------------------------------------------------------------

def _head(item: MatrixItem) -> MatrixIndex:
    if not item.packed:
        return MatrixIndex.from_json(item.district_id, int(item.version), item.entries)
    data = _unpack(item.packed)
    return MatrixIndex(item.district_id, int(item.version), entries_from_rows(data["e"]), int(item.generation or 0),
                       frozenset(data.get("s", ())), tuple(sorted(data.get("n", {}).items())))


def _head_item(district_id: str, consistent: bool = False) -> MatrixItem | None:
    try:
        return MatrixItem.get(district_id, consistent_read=consistent)
    except MatrixItem.DoesNotExist:
        return None


def load_head(district_id: str, consistent: bool = False) -> MatrixIndex:
    """The district's head: one GetItem (an empty index, version 0, when nothing was stored yet)."""
    item = _head_item(district_id, consistent)
    return _head(item) if item else MatrixIndex(district_id, 0, ())


def load_shard(district_id: str, generation: int, gram: str) -> tuple[MatrixEntry, ...]:
    """The community entries holding `gram`: one GetItem (none when no entry holds it)."""
    try:
        return entries_from_rows(_unpack(MatrixPart.get(district_id, shard_key(generation, gram)).packed))
    except MatrixPart.DoesNotExist:
        return ()


def lookup(district_id: str, query: str | None) -> MatrixIndex:
    """The index as far as `query` needs it, uncached (`DynamoPorts.matrix` caches both reads)."""
    head = load_head(district_id)
    return head.answering(query, lambda gram: load_shard(district_id, head.generation, gram))


def load_index(district_id: str, consistent: bool = False) -> MatrixIndex:
    """The whole matrix (staff's list): the head, and every community entry of its generation (a Query
    of the district's entries, paged; never on a resident's path)."""
    head = load_head(district_id, consistent)
    if not head.generation:
        return head
    prefix = f"{head.generation:05d}#e#"
    rows = MatrixPart.query(district_id, MatrixPart.part.startswith(prefix), consistent_read=consistent)
    found = [e for r in rows for e in entries_from_rows(_unpack(r.packed))]
    return MatrixIndex(district_id, head.version, tuple(sort_entries([*head.entries, *found])))


def entries_page(district_id: str, generation: int, limit: int, cursor: str | None
                 ) -> tuple[list[MatrixEntry], str | None]:
    """A page of a sharded matrix's community entries, in id order (one Query), and the next cursor."""
    query = f"matrix#{district_id}#{generation}"
    result = MatrixPart.query(district_id, MatrixPart.part.startswith(f"{generation:05d}#e#"), limit=limit,
                              last_evaluated_key=page_tokens.decode(cursor, query), consistent_read=True)
    found = [e for r in result for e in entries_from_rows(_unpack(r.packed))]
    return found, page_tokens.encode(result.last_evaluated_key, query)


# ---- writes ----------------------------------------------------------------------------------------

def _head_as_item(head: MatrixIndex, version: int, actor: str, *, entries=None, sharded=None,
                  generation=None, stop=None, entries_digest=None, retired=None) -> MatrixItem:
    entries = head.entries if entries is None else entries
    counts = dict(head.sharded if sharded is None else sharded)
    stop = head.stop if stop is None else stop
    packed = _pack({"e": entry_rows(sort_entries(entries)), "s": sorted(stop),
                    "n": {p: n for p, n in counts.items() if n}})
    if len(packed) > MAX_INDEX_BYTES:
        raise ConflictError("联盟矩阵已经太大，请先删除不再使用的账号", code="matrix_too_large")
    return MatrixItem(head.district_id, version=version, packed=packed,
                      generation=head.generation if generation is None else generation,
                      digest=entries_digest, retired=retired, updated_by=actor, updated_at=clock.now())


def _condition(head: MatrixIndex):
    return MatrixItem.district_id.does_not_exist() if head.version == 0 else (MatrixItem.version == head.version)


def save_index(index: MatrixIndex, actor: str) -> MatrixIndex:
    """Write `index` (a head holding every entry) as the next version, only if the stored version is still
    `index.version`."""
    item = _head_as_item(index, index.version + 1, actor, entries=index.entries, sharded=(), generation=0,
                         stop=frozenset())
    item.save(condition=_condition(index))
    return MatrixIndex(index.district_id, index.version + 1, index.entries)


def _conflict(exc: Exception) -> bool:
    if isinstance(exc, TransactWriteError):
        codes = {r.code for r in (exc.cancellation_reasons or []) if r is not None}
        return bool(codes & {"ConditionalCheckFailed", "TransactionConflict"})
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _edit(district_id: str, actor: str, entry_id: str, change) -> MatrixIndex:
    """Apply `change(old entry or None) -> new entry or None` to one entry, with the head's version as lock."""
    for attempt in range(EDIT_RETRIES):
        item = _head_item(district_id, consistent=True)
        head = _head(item) if item else MatrixIndex(district_id, 0, ())
        try:
            if not head.generation:
                old = head.get(entry_id)
                new = change(old)
                entries = [e for e in head.entries if e.entry_id != entry_id] + ([new] if new else [])
                if sum(1 for e in entries if is_sharded(e)) > INLINE_COMMUNITIES:
                    return replace_all(district_id, entries, actor)  # the district outgrew one item
                return save_index(MatrixIndex(district_id, head.version, tuple(sort_entries(entries))), actor)
            old = head.get(entry_id) or _read_entry(district_id, head.generation, entry_id)
            return _edit_sharded(head, item, old, change(old), entry_id, actor)
        except (PutError, TransactWriteError) as exc:
            if not _conflict(exc):
                raise
    raise ConflictError("联盟矩阵刚被别人修改，请刷新后再试", code="stale_matrix")


def _read_entry(district_id: str, generation: int, entry_id: str) -> MatrixEntry | None:
    try:
        item = MatrixPart.get(district_id, entry_key(generation, entry_id), consistent_read=True)
    except MatrixPart.DoesNotExist:
        return None
    return entries_from_rows(_unpack(item.packed))[0]


def _edit_sharded(head: MatrixIndex, item: MatrixItem, old: MatrixEntry | None, new: MatrixEntry | None,
                  entry_id: str, actor: str) -> MatrixIndex:
    """One entry of a sharded matrix: its shards first (idempotent), then the head and the entry's item
    in one transaction on the head's version."""
    gen, stop = head.generation, head.stop
    old_grams = entry_grams(old, stop) if old is not None and is_sharded(old) else set()
    new_grams = entry_grams(new, stop) if new is not None and is_sharded(new) else set()
    _update_shards(head.district_id, gen, entry_id, old_grams - new_grams, new_grams, new)
    counts = dict(head.sharded)
    if old is not None and is_sharded(old):
        counts[old.platform] = counts.get(old.platform, 0) - 1
    if new is not None and is_sharded(new):
        counts[new.platform] = counts.get(new.platform, 0) + 1
    inline = [e for e in head.entries if e.entry_id != entry_id] + ([new] if new and not is_sharded(new) else [])
    next_head = _head_as_item(head, head.version + 1, actor, entries=inline, sharded=counts, retired=item.retired)
    with TransactWrite(connection=transaction_connection()) as tx:
        tx.save(next_head, condition=MatrixItem.version == head.version)
        row = MatrixPart(head.district_id, entry_key(gen, entry_id))
        if new is not None and is_sharded(new):
            row.packed = _pack(entry_rows([new]))
            tx.save(row)
        elif old is not None and is_sharded(old):
            tx.delete(row)
    return MatrixIndex(head.district_id, head.version + 1, tuple(sort_entries(inline)), gen, stop,
                       tuple(sorted((p, n) for p, n in counts.items() if n)))


def _update_shards(district_id: str, gen: int, entry_id: str, leave: set[str], join: set[str],
                   entry: MatrixEntry | None) -> None:
    """Take `entry_id` out of the shards of `leave`, put `entry` into those of `join`; each shard is
    rewritten with a condition on its own version (re-read and retried when another edit got there)."""
    grams = sorted(leave | join)
    found = {p.part: p for p in MatrixPart.batch_get([(district_id, shard_key(gen, g)) for g in grams],
                                                     consistent_read=True)} if grams else {}
    for gram in grams:
        key = shard_key(gen, gram)
        current = found.get(key)
        for attempt in range(SHARD_RETRIES):
            try:
                _rewrite_shard(district_id, key, current, entry_id, entry if gram in join else None)
                break
            except (PutError, DeleteError) as exc:
                if not _conflict(exc) or attempt == SHARD_RETRIES - 1:
                    raise
                try:
                    current = MatrixPart.get(district_id, key, consistent_read=True)
                except MatrixPart.DoesNotExist:
                    current = None


def _rewrite_shard(district_id: str, key: str, current: MatrixPart | None, entry_id: str,
                   entry: MatrixEntry | None) -> None:
    before = list(entries_from_rows(_unpack(current.packed))) if current else []
    after = [e for e in before if e.entry_id != entry_id] + ([entry] if entry is not None else [])
    after = sort_entries(after)
    if after == sort_entries(before):
        return  # already so: a repeated edit writes nothing
    version = int(current.version) if current else 0
    condition = MatrixPart.part.does_not_exist() if current is None else (MatrixPart.version == version)
    if not after:
        MatrixPart(district_id, key).delete(condition=condition)
        return
    packed = _pack(entry_rows(after))
    if len(packed) > MAX_INDEX_BYTES:
        raise ConflictError("联盟矩阵的一个分片已经太大，请让技术人员重建矩阵索引", code="matrix_too_large")
    MatrixPart(district_id, key, packed=packed, version=version + 1).save(condition=condition)


def put_entry(district_id: str, entry: MatrixEntry, actor: str) -> MatrixIndex:
    return _edit(district_id, actor, entry.entry_id, lambda old: entry)


def delete_entry(district_id: str, entry_id: str, actor: str) -> MatrixIndex:
    def change(old: MatrixEntry | None) -> None:
        if old is None:
            raise NotFound("矩阵里没有这个账号")
        return None
    return _edit(district_id, actor, entry_id, change)


# ---- the whole matrix at once (the seed) ----------------------------------------------------------------

def replace_all(district_id: str, entries: list[MatrixEntry], actor: str) -> MatrixIndex:
    """The seed: the whole matrix at once. Loading the same entries again writes nothing; a large
    district's community entries go to a new generation of shards (batch writes), then the head flips to
    it with a condition on the version read."""
    entries = sort_entries({e.entry_id: e for e in entries}.values())
    wanted = digest(entries)
    communities = [e for e in entries if is_sharded(e)]
    sharded = len(communities) > INLINE_COMMUNITIES
    built = None  # (generation, stop grams): written once, whatever the flip's retries
    for attempt in range(EDIT_RETRIES):
        item = _head_item(district_id, consistent=True)
        head = _head(item) if item else MatrixIndex(district_id, 0, ())
        if item is not None and item.digest == wanted:
            return head
        retired = _retired(item)
        if head.generation:
            retired.append((head.generation, clock.now()))
        if sharded and built is None:
            generation = max([head.generation, *(g for g, _ in retired)]) + 1
            _purge(district_id, generation)  # what an interrupted rebuild may have left
            built = (generation, _write_generation(district_id, generation, communities))
        keep = [(g, at) for g, at in retired if clock.now() - at < RETIRE_AFTER and (not built or g != built[0])]
        for g, at in retired:
            if (g, at) not in keep and (not built or g != built[0]):
                _purge(district_id, g)
        if built:
            generation, stop = built
            inline = [e for e in entries if not is_sharded(e)]
            counts: dict[str, int] = {}
            for e in communities:
                counts[e.platform] = counts.get(e.platform, 0) + 1
        else:
            generation, stop, inline, counts = 0, frozenset(), entries, {}
        next_head = _head_as_item(MatrixIndex(district_id, head.version, ()), head.version + 1, actor,
                                  entries=inline, sharded=counts, generation=generation, stop=stop,
                                  entries_digest=wanted,
                                  retired=json.dumps([[g, at.isoformat()] for g, at in keep]) if keep else None)
        try:
            next_head.save(condition=_condition(head))
        except PutError as exc:
            if not _conflict(exc):
                raise
            continue
        return _head(next_head)
    raise ConflictError("联盟矩阵刚被别人修改，请刷新后再试", code="stale_matrix")


def rebuild(district_id: str, actor: str) -> MatrixIndex:
    """The matrix's index built again from its entries (new stop grams, shards back under `STOP_AT`), as
    the seed builds it: after many edits, or when an edit finds a shard too large."""
    return replace_all(district_id, list(load_index(district_id, consistent=True).entries), actor)


def _retired(item: MatrixItem | None) -> list[tuple[int, datetime]]:
    if item is None or not item.retired:
        return []
    return [(int(g), datetime.fromisoformat(at)) for g, at in json.loads(item.retired)]


def _write_generation(district_id: str, generation: int, communities: list[MatrixEntry]) -> frozenset:
    """Every community entry and every shard of a new generation, with batch writes; its stop grams."""
    stop = stop_grams(communities)
    with MatrixPart.batch_write() as batch:
        for e in communities:
            batch.save(MatrixPart(district_id, entry_key(generation, e.entry_id), packed=_pack(entry_rows([e]))))
        for gram, held in build_shards(communities, stop).items():
            batch.save(MatrixPart(district_id, shard_key(generation, gram), packed=_pack(entry_rows(held)),
                                  version=1))
    return stop


def _purge(district_id: str, generation: int) -> None:
    """Delete every item of one generation (a batch job: a Query of its keys, batch deletes)."""
    keys = MatrixPart.query(district_id, MatrixPart.part.startswith(f"{generation:05d}#"),
                            attributes_to_get=["district_id", "part"])
    with MatrixPart.batch_write() as batch:
        for item in keys:
            batch.delete(item)
