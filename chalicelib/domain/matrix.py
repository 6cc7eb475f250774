"""The alliance matrix (联盟矩阵): every government WeChat and Weibo account of the district, as data.

An entry says who the account is (name, platform, owner unit, category), how to reach it (WeChat id or
Weibo URL, a QR code image) and what it is for (one line). The chat search and the H5 page read a
*compact index* of the district's matrix, never the district's accounts one by one: `MatrixIndex` here,
stored by `chalicelib.store.matrix`.

`search` answers `法官`, `消费维权`, `学校`, `微博`, `找香港花园` … from the index alone.

**At scale (分片索引).** A district may have 10,000 community accounts, each with its matrix entry (1.5 MB:
more than one DynamoDB item holds). The index is then a small *head* — the version, every entry that is
not a community's (departments, courts, schools, sub-districts, services: a few hundred at most), the
count of community entries, and the *stop grams* — plus the community entries sharded by search gram:
one shard per gram holding every community entry whose name, owner or description contains it.

The grams (检索词片) are *multigrams*: a character is a gram; a gram held by more than `STOP_AT` community
entries is a stop gram, and then the grams one character longer that begin with it are grams in its
place, up to `MAX_GRAM` characters (`stop_grams`). At each position of a text, the gram is the shortest
one there that is not a stop gram (`gram_at`); an entry is in the shard of every gram of its fields
(`entry_grams`), and a query term's gram is found the same way (`lookup_gram`). As an entry holding a
term holds every gram of the term, ONE shard of any of the term's grams holds every entry that can match:
a search reads the head and that one shard, and filters with `search`'s own rules — the same answers
as one index of everything, from at most `STOP_AT` community entries. A query whose words are all stop
grams ("社区", "微信") cannot name a shard: it answers from the head and says the communities are too many
to list (`MatrixIndex.complete` is False). With `INLINE_COMMUNITIES` community entries or fewer (the
demo's 65) the head holds everything, as one item, and no shard exists.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, field
from typing import Any, Callable, Iterable, Protocol

from chalicelib.domain.effects import Decision
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messages import Reply
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record
from chalicelib.domain.router import Context, router

PLATFORMS = {"wechat": "微信", "weibo": "微博"}
CATEGORIES = ("社区", "街道", "部门", "学校", "法院", "服务")
ENTRY_ID_RE = lazy_re(r"^[a-z0-9][a-z0-9.-]{0,63}$")
WECHAT_ID_RE = lazy_re(r"^[A-Za-z][A-Za-z0-9_-]{4,39}$")
WEIBO_URL_RE = lazy_re(r"^https://(?:www\.)?weibo\.(?:com|cn)/[A-Za-z0-9_./-]{1,80}$")
QR_URL_RE = lazy_re(r"^(?:https://[A-Za-z0-9.-]+|)/[A-Za-z0-9_./?=&%-]{1,300}$")
MAX_NAME = 30
MAX_OWNER = 40
MAX_DESCRIPTION = 60
MAX_LISTED = 10
# Words of a search that mean a platform or a category rather than a name.
PLATFORM_WORDS = {"微博": "weibo", "微信": "wechat", "公众号": "wechat", "微信公众号": "wechat"}
TERM_SPLIT = lazy_re(r"[\s,，、]+")
QUERY_NOISE = lazy_re(r"(?:联盟|矩阵|账号|帐号|的|有哪些|有什么|列表|全部|所有)")
# The sharded index (see the module's docstring).
SHARDED_CATEGORY = "社区"  # the one category that grows with the district: its entries go to shards
INLINE_COMMUNITIES = 200  # up to this many community entries, the head holds them too (one item)
STOP_AT = 200  # a gram held by more community entries than this is a stop gram: its shard would be too big
MAX_GRAM = 4  # grams are 1 to 4 characters


@record
class MatrixEntry:
    """One account of the matrix (矩阵账号)."""

    entry_id: str
    name: str
    platform: str  # wechat | weibo
    owner: str  # 主办单位
    category: str  # one of CATEGORIES
    description: str = ""
    wechat_id: str = ""  # platform wechat: the id residents search (or the gh_ original id)
    weibo_url: str = ""  # platform weibo
    qr_url: str = ""  # a QR code image; for WeChat accounts derived from the id when empty
    account_id: str = ""  # the platform's own account of this entry, if it is one of the alliance

    @property
    def platform_name(self) -> str:
        return PLATFORMS.get(self.platform, self.platform)

    @property
    def address(self) -> str:
        """How a resident reaches it: the WeChat id, or the Weibo page."""
        return self.wechat_id if self.platform == "wechat" else self.weibo_url

    @property
    def qr_image(self) -> str:
        if self.qr_url:
            return self.qr_url
        if self.platform == "wechat" and self.wechat_id:
            return f"https://open.weixin.qq.com/qr/code?username={self.wechat_id}"
        return ""


_COMPACT_KEYS = {"entry_id": "i", "name": "n", "platform": "p", "owner": "o", "category": "c", "description": "d",
                 "wechat_id": "w", "weibo_url": "u", "qr_url": "q", "account_id": "a"}
_FROM_COMPACT = {v: k for k, v in _COMPACT_KEYS.items()}


@record
class MatrixIndex:
    """The district's matrix as searches and the H5 page read it, compact and versioned.

    Read whole (`generation` 0), `entries` is every entry. Read for a query from a sharded index, it is
    the head's entries plus the community entries of the shard the query named; `sharded` counts the
    community entries kept in shards by platform, `stop` lists the stop grams, and `complete` says whether
    `entries` holds every entry that can match the query it was read for."""

    district_id: str
    version: int
    entries: tuple[MatrixEntry, ...] = field(default_factory=tuple)
    generation: int = 0  # the shards' generation the head names (0: no shards, `entries` is everything)
    stop: frozenset = frozenset()
    sharded: tuple = ()  # ((platform, count), ...) of the community entries kept in shards
    complete: bool = True

    def to_json(self) -> str:
        return entries_to_json(self.entries)

    @classmethod
    def from_json(cls, district_id: str, version: int, text: str) -> "MatrixIndex":
        return cls(district_id, version, entries_from_json(text))

    def get(self, entry_id: str) -> MatrixEntry | None:
        return next((e for e in self.entries if e.entry_id == entry_id), None)

    def with_entry(self, entry: MatrixEntry) -> "MatrixIndex":
        """The index with `entry` added or replaced (same version: the store bumps it on write)."""
        others = [e for e in self.entries if e.entry_id != entry.entry_id]
        return MatrixIndex(self.district_id, self.version, tuple(sort_entries(others + [entry])))

    def without(self, entry_id: str) -> "MatrixIndex":
        return MatrixIndex(self.district_id, self.version, tuple(e for e in self.entries if e.entry_id != entry_id))

    def by_category(self) -> dict[str, list[MatrixEntry]]:
        grouped: dict[str, list[MatrixEntry]] = {c: [] for c in CATEGORIES}
        for e in self.entries:
            grouped.setdefault(e.category, []).append(e)
        return {c: items for c, items in grouped.items() if items}

    # ---- the sharded index ----

    def sharded_count(self, platform: str | None = None) -> int:
        """Community entries kept in shards (of one platform, or all)."""
        return sum(n for p, n in self.sharded if platform is None or p == platform)

    @property
    def total(self) -> int:
        """Every entry of the district, whether held here or in shards."""
        return len(self.entries) + self.sharded_count()

    def counts(self) -> dict[str, int]:
        """Entries per category, shards included (in `CATEGORIES` order)."""
        counts = {c: len(items) for c, items in self.by_category().items()}
        if self.sharded_count():
            counts[SHARDED_CATEGORY] = counts.get(SHARDED_CATEGORY, 0) + self.sharded_count()
        return {c: counts[c] for c in [*CATEGORIES, *counts] if counts.get(c)}

    def weibo_count(self) -> int:
        return sum(1 for e in self.entries if e.platform == "weibo") + self.sharded_count("weibo")

    def lookup_gram(self, query: str) -> str | None:
        """The gram whose shard holds every community entry that can match `query` ("" when no shard is
        needed: nothing is sharded, or the query rules communities out; None when every word of the query
        is a stop gram, so no shard is small enough: the answer is then incomplete)."""
        platform, category, terms = parse_query(query)
        if not self.sharded_count(platform):
            return ""
        if category and category != SHARDED_CATEGORY:
            terms = [*terms, category.lower()]  # a community matches a category word only by its name
        grams = [g for t in terms for g in (gram_at(t, i, self.stop) for i in range(len(t))) if g]
        if not grams:
            return None
        return max(grams, key=len)  # the longest: held by the fewest entries, as far as the head can tell

    def answering(self, query: str | None, read_shard: Callable[[str], Iterable[MatrixEntry]]) -> "MatrixIndex":
        """This head, with what `query` needs of the shards: `read_shard(gram)` at most once."""
        if not query:
            return self if not self.sharded_count() else self.narrowed((), complete=False)
        gram = self.lookup_gram(query)
        if gram == "":
            return self
        if gram is None:
            return self.narrowed((), complete=False)
        return self.narrowed(read_shard(gram), complete=True)

    def narrowed(self, found: Iterable[MatrixEntry], complete: bool) -> "MatrixIndex":
        """The head with the community entries a shard held (what `search` then filters)."""
        mine = {e.entry_id for e in self.entries}
        extra = {e.entry_id: e for e in found if e.entry_id not in mine}
        return MatrixIndex(self.district_id, self.version, tuple(sort_entries([*self.entries, *extra.values()])),
                           self.generation, self.stop, self.sharded, complete)


def is_sharded(entry: MatrixEntry) -> bool:
    """Kept in shards in a large district (a community's entry), rather than in the head."""
    return entry.category == SHARDED_CATEGORY


def _fields(entry: MatrixEntry) -> tuple[str, str, str]:
    """What `search` looks in, as it looks (lower case)."""
    return entry.name.lower(), entry.owner.lower(), entry.description.lower()


def gram_at(text: str, i: int, stop: frozenset) -> str | None:
    """The shortest gram at position `i` of `text` that is not a stop gram (None: none up to `MAX_GRAM`
    characters, or a space in the way — query terms never hold one)."""
    for k in range(1, MAX_GRAM + 1):
        gram = text[i:i + k]
        if len(gram) < k or gram[-1].isspace():
            return None
        if gram not in stop:
            return gram
    return None


def stop_grams(entries: Iterable[MatrixEntry], stop_at: int | None = None) -> frozenset:
    """The grams held by more than `stop_at` (`STOP_AT`) of `entries`, level by level: a gram of k
    characters is counted only when its first k-1 characters are a stop gram."""
    stop_at = STOP_AT if stop_at is None else stop_at
    texts = [_fields(e) for e in entries]
    stop: set[str] = set()
    previous: set[str] | None = None
    for k in range(1, MAX_GRAM + 1):
        held: Counter = Counter()
        for fields in texts:
            grams = {f[i:i + k] for f in fields for i in range(len(f) - k + 1)}
            held.update(g for g in grams if not any(c.isspace() for c in g)
                        and (previous is None or g[:-1] in previous))
        previous = {g for g, n in held.items() if n > stop_at}
        if not previous:
            break
        stop |= previous
    return frozenset(stop)


def entry_grams(entry: MatrixEntry, stop: frozenset) -> set[str]:
    """The grams whose shards hold `entry`."""
    return {g for f in _fields(entry) for i in range(len(f)) if (g := gram_at(f, i, stop))}


def build_shards(entries: Iterable[MatrixEntry], stop: frozenset) -> dict[str, list[MatrixEntry]]:
    """gram -> the entries of its shard (in `sort_entries` order)."""
    shards: dict[str, list[MatrixEntry]] = {}
    for e in sort_entries(entries):
        for g in entry_grams(e, stop):
            shards.setdefault(g, []).append(e)
    return shards


def entry_rows(entries: Iterable[MatrixEntry]) -> list[dict[str, str]]:
    """The compact form of entries (one-letter keys, empty fields left out)."""
    return [{_COMPACT_KEYS[k]: v for k, v in asdict(e).items() if v} for e in entries]


def entries_from_rows(rows: Iterable[dict[str, str]]) -> tuple[MatrixEntry, ...]:
    return tuple(MatrixEntry(**{_FROM_COMPACT[k]: v for k, v in r.items()}) for r in rows)


def entries_to_json(entries: Iterable[MatrixEntry]) -> str:
    return json.dumps(entry_rows(entries), ensure_ascii=False, separators=(",", ":"))


def entries_from_json(text: str) -> tuple[MatrixEntry, ...]:
    return entries_from_rows(json.loads(text or "[]"))


def digest(entries: Iterable[MatrixEntry]) -> str:
    """The same entries give the same digest (a seed loaded twice rewrites nothing)."""
    return hashlib.sha256(entries_to_json(sort_entries(entries)).encode("utf-8")).hexdigest()[:32]


def sort_entries(entries: Iterable[MatrixEntry]) -> list[MatrixEntry]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(entries, key=lambda e: (order.get(e.category, 99), e.platform != "wechat", e.entry_id))


class MatrixReads(Protocol):
    """The port the chat search needs (implemented over DynamoDB by `chalicelib.store.matrix`): the index
    as far as `query` needs it (no query: the head)."""

    def matrix(self, district_id: str, query: str | None = None) -> MatrixIndex: ...


# ---- checks ----------------------------------------------------------------------------------------

def entry_from_dict(data: Any, entry_id: str | None = None) -> MatrixEntry:
    """A checked entry from staff's JSON (or the seed); `BadRequest` naming every problem, in Chinese."""
    if not isinstance(data, dict):
        raise BadRequest("矩阵账号应为JSON对象", code="invalid_entry")
    errors: list[str] = []

    def text(name: str, label: str, limit: int, required: bool = True) -> str:
        value = data.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.append(f"{label}应为文字")
            return ""
        value = value.strip()
        if required and not value:
            errors.append(f"请填写{label}")
        elif len(value) > limit:
            errors.append(f"{label}最多 {limit} 个字（现在 {len(value)} 个）")
        return value

    entry_id = entry_id or data.get("id") or data.get("entry_id") or ""
    if not isinstance(entry_id, str) or not ENTRY_ID_RE.match(entry_id):
        errors.append("编号应为小写字母、数字、点或连字符（最多 64 个），例如 judge-zhangyu")
    name = text("name", "名称", MAX_NAME)
    owner = text("owner", "主办单位", MAX_OWNER)
    description = text("description", "简介", MAX_DESCRIPTION, required=False)
    platform = data.get("platform")
    if platform not in PLATFORMS:
        errors.append("平台应为 wechat（微信）或 weibo（微博）")
    category = data.get("category")
    if category not in CATEGORIES:
        errors.append("类别应为其中之一：" + "、".join(CATEGORIES))
    wechat_id = text("wechat_id", "微信号", 40, required=False)
    weibo_url = text("weibo_url", "微博地址", 120, required=False)
    qr_url = text("qr_url", "二维码图片地址", 300, required=False)
    account_id = text("account_id", "平台公众号编号", 64, required=False)
    if platform == "wechat" and not WECHAT_ID_RE.match(wechat_id):
        errors.append("微信账号需要微信号（字母开头，5–40 个字母、数字、下划线或连字符）")
    if platform == "weibo" and not WEIBO_URL_RE.match(weibo_url):
        errors.append("微博账号需要微博地址，例如 https://weibo.com/shinanfabu")
    if qr_url and not QR_URL_RE.match(qr_url):
        errors.append("二维码图片地址应为 https:// 开头的网址或站内路径")
    if errors:
        raise BadRequest("；".join(errors), code="invalid_entry")
    return MatrixEntry(entry_id, name, platform, owner, category, description,
                       wechat_id if platform == "wechat" else "", weibo_url if platform == "weibo" else "",
                       qr_url, account_id)


def entry_to_json(entry: MatrixEntry) -> dict[str, Any]:
    data = asdict(entry)
    data["id"] = data.pop("entry_id")
    data["platform_name"] = entry.platform_name
    data["qr_image"] = entry.qr_image
    return data


# ---- search ----------------------------------------------------------------------------------------

def parse_query(query: str) -> tuple[str | None, str | None, list[str]]:
    """(platform, category, words) of a search: a platform word (微博, 微信) and/or a category word
    (学校, 法院 …), and the remaining words, lower case."""
    words = QUERY_NOISE.sub(" ", (query or "").strip().lower())
    platform = None
    for word, code in sorted(PLATFORM_WORDS.items(), key=lambda kv: -len(kv[0])):
        if word in words:
            platform = code
            words = words.replace(word, " ")
    category = None
    for c in CATEGORIES:
        if words.strip() == c.lower() or words.strip() == c + "类":
            category, words = c, ""
    return platform, category, [t for t in TERM_SPLIT.split(words) if t]


def search(index: MatrixIndex, query: str) -> list[MatrixEntry]:
    """Entries matching the query: a platform word (微博, 微信) and/or a category word (学校, 法院 …)
    narrow the list; the remaining words must appear in the name, the owner or the description."""
    platform, category, terms = parse_query(query)
    found = []
    for e in index.entries:
        if platform and e.platform != platform:
            continue
        if category and e.category != category and category not in e.name:
            continue
        haystack = f"{e.name} {e.owner} {e.description}".lower()
        if terms and not all(t in haystack for t in terms):
            continue
        found.append(e)
    # names that hold the words first: 张玉法官工作室 before the court whose description mentions 法官
    return sorted(found, key=lambda e: (0 if all(t in e.name.lower() for t in terms) else 1))


def describe(entry: MatrixEntry) -> str:
    how = f"微信号 {entry.wechat_id}" if entry.platform == "wechat" else entry.weibo_url
    return f"· {entry.name}（{entry.platform_name}·{entry.category}）{how}"


BROWSE = "\n点菜单“微市南 → 微信联盟”可按类别浏览全部账号。"


def communities_note(index: MatrixIndex) -> str:
    """What an incomplete answer says: the communities are too many to list for such a general word."""
    return (f"全区有 {index.sharded_count()} 个社区账号，太多了列不下：请加上社区的名字查找，例如“找香港花园”。"
            if not index.complete else "")


def search_reply(index: MatrixIndex, query: str) -> Reply:
    found = search(index, query)
    more_page = ("\n" + communities_note(index) if not index.complete else "") + BROWSE
    if not found and not index.complete:
        return Reply(text=f"联盟里和“{query}”有关的社区账号太多。" + more_page)
    if not found:
        return Reply(text=f"联盟里没有找到和“{query}”有关的账号。可以换个关键词，例如“法官”“学校”“微博”。"
                          + more_page)
    lines = [describe(e) for e in found[:MAX_LISTED]]
    more = f"\n……共 {len(found)} 个，请换个更具体的关键词。" if len(found) > MAX_LISTED else ""
    return Reply(text=f"联盟里和“{query}”有关的账号（微信里搜索微信号即可关注）：\n" + "\n".join(lines) + more
                      + more_page)


def overview_reply(index: MatrixIndex) -> Reply:
    counts = "、".join(f"{c} {n} 个" for c, n in index.counts().items())
    weibo = index.weibo_count()
    link = BROWSE
    return Reply(text=f"微信联盟 / 微博联盟：全区 {index.total} 个政务账号（其中微博 {weibo} 个）：{counts}。\n"
                      "回复“找”加关键词查找，例如“找法官”“找消费维权”“学校”“微博”。" + link)


@router.action("alliance_search")
def alliance_search(ctx: Context) -> Decision:
    """联盟: find accounts of the matrix by a word (the compact index: its cached head, and for a
    community's name one shard)."""
    query = str(ctx.params.get("query") or "").strip()
    if not query and ctx.message.kind in ("text", "voice"):
        query = ctx.text.strip()
    if query == "微博联盟":
        return Decision(search_reply(ctx.ports.matrix(ctx.account.district_id, "微博"), "微博"))
    if not query or query in ("联盟", "微信联盟", "矩阵", "联盟矩阵"):
        return Decision(overview_reply(ctx.ports.matrix(ctx.account.district_id)))
    return Decision(search_reply(ctx.ports.matrix(ctx.account.district_id, query), query))
