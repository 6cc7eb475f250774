"""The alliance matrix (联盟矩阵): every government WeChat and Weibo account of the district, as data.

An entry says who the account is (name, platform, owner unit, category), how to reach it (WeChat id or
Weibo URL, a QR code image) and what it is for (one line). The chat search and the H5 page read a
*compact index* of the district's matrix — one item, versioned, cached per container — never the
district's accounts one by one: `MatrixIndex` here, stored by `chalicelib.store.matrix`.

`search` answers `法官`, `消费维权`, `学校`, `微博`, `找香港花园` … from the index alone.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, field
from typing import Any, Iterable, Protocol

from chalicelib.domain.effects import Decision
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messages import Reply
from chalicelib.domain.records import record
from chalicelib.domain.router import Context, router

PLATFORMS = {"wechat": "微信", "weibo": "微博"}
CATEGORIES = ("社区", "街道", "部门", "学校", "法院", "服务")
ENTRY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")
WECHAT_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{4,39}$")
WEIBO_URL_RE = re.compile(r"^https://(?:www\.)?weibo\.(?:com|cn)/[A-Za-z0-9_./-]{1,80}$")
QR_URL_RE = re.compile(r"^(?:https://[A-Za-z0-9.-]+|)/[A-Za-z0-9_./?=&%-]{1,300}$")
MAX_NAME = 30
MAX_OWNER = 40
MAX_DESCRIPTION = 60
MAX_LISTED = 10
# Words of a search that mean a platform or a category rather than a name.
PLATFORM_WORDS = {"微博": "weibo", "微信": "wechat", "公众号": "wechat", "微信公众号": "wechat"}
QUERY_NOISE = re.compile(r"(?:联盟|矩阵|账号|帐号|的|有哪些|有什么|列表|全部|所有)")


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
    """The district's matrix in one compact, versioned record (what searches and the H5 page read)."""

    district_id: str
    version: int
    entries: tuple[MatrixEntry, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        rows = [{_COMPACT_KEYS[k]: v for k, v in asdict(e).items() if v} for e in self.entries]
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, district_id: str, version: int, text: str) -> "MatrixIndex":
        rows = json.loads(text or "[]")
        return cls(district_id, version, tuple(MatrixEntry(**{_FROM_COMPACT[k]: v for k, v in r.items()})
                                               for r in rows))

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


def sort_entries(entries: Iterable[MatrixEntry]) -> list[MatrixEntry]:
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(entries, key=lambda e: (order.get(e.category, 99), e.platform != "wechat", e.entry_id))


class MatrixReads(Protocol):
    """The port the chat search needs (implemented over DynamoDB by `chalicelib.store.matrix`)."""

    def matrix(self, district_id: str) -> MatrixIndex: ...


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

def search(index: MatrixIndex, query: str) -> list[MatrixEntry]:
    """Entries matching the query: a platform word (微博, 微信) and/or a category word (学校, 法院 …)
    narrow the list; the remaining words must appear in the name, the owner or the description."""
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
    terms = [t for t in re.split(r"[\s,，、]+", words) if t]
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


def search_reply(index: MatrixIndex, query: str) -> Reply:
    found = search(index, query)
    more_page = BROWSE
    if not found:
        return Reply(text=f"联盟里没有找到和“{query}”有关的账号。可以换个关键词，例如“法官”“学校”“微博”。"
                          + more_page)
    lines = [describe(e) for e in found[:MAX_LISTED]]
    more = f"\n……共 {len(found)} 个，请换个更具体的关键词。" if len(found) > MAX_LISTED else ""
    return Reply(text=f"联盟里和“{query}”有关的账号（微信里搜索微信号即可关注）：\n" + "\n".join(lines) + more
                      + more_page)


def overview_reply(index: MatrixIndex) -> Reply:
    counts = "、".join(f"{c} {len(items)} 个" for c, items in index.by_category().items())
    weibo = sum(1 for e in index.entries if e.platform == "weibo")
    link = BROWSE
    return Reply(text=f"微信联盟 / 微博联盟：全区 {len(index.entries)} 个政务账号（其中微博 {weibo} 个）：{counts}。\n"
                      "回复“找”加关键词查找，例如“找法官”“找消费维权”“学校”“微博”。" + link)


@router.action("alliance_search")
def alliance_search(ctx: Context) -> Decision:
    """联盟: find accounts of the matrix by a word (the compact index, one cached read)."""
    index = ctx.ports.matrix(ctx.account.district_id)
    query = str(ctx.params.get("query") or "").strip()
    if not query and ctx.message.kind in ("text", "voice"):
        query = ctx.text.strip()
    if query == "微博联盟":
        return Decision(search_reply(index, "微博"))
    if not query or query in ("联盟", "微信联盟", "矩阵", "联盟矩阵"):
        return Decision(overview_reply(index))
    return Decision(search_reply(index, query))
