"""The three checks of a post (三关), tools for the reviewers: 文字关, 时间关, 政策关.

* 文字关 (`text_findings`): common wrong characters and phrases, the district's banned and sensitive words
  (data, editable by the district), images without alt text, links outside the whitelist.
* 时间关 (`time_findings`): the planned day and slot, another post of the same account that day, content
  whose time has passed (an activity already over).
* 政策关 (`policy_findings`): a checklist the second reviewer ticks, configurable per district.

Each finding blocks or warns as the district's `CheckPolicy.levels` say. Plain functions over plain data.
"""
from __future__ import annotations

from dataclasses import asdict, field
from datetime import date
from typing import Any, Iterable

from chalicelib.domain.errors import BadRequest
from chalicelib.domain.publishing import (
    ALT_RE, HREF_RE, IMG_TAG_RE, ArticleDraft, Post, host_of, plain_text,
)
from chalicelib.domain.records import record

BLOCK, WARN = "block", "warn"

# Common wrong characters and phrases (常见错别字) → the right form.
WRONG_PHRASES: dict[str, str] = {
    "按装": "安装", "渡假": "度假", "一股作气": "一鼓作气", "再接再励": "再接再厉", "迫不急待": "迫不及待",
    "穿流不息": "川流不息", "谈笑风声": "谈笑风生", "不径而走": "不胫而走", "甘败下风": "甘拜下风",
    "默守成规": "墨守成规", "人事不醒": "人事不省", "莫不关心": "漠不关心", "一愁莫展": "一筹莫展",
    "走头无路": "走投无路", "既往不究": "既往不咎", "貌和神离": "貌合神离", "防碍": "妨碍", "幅射": "辐射",
    "帐号": "账号", "报筹": "报酬", "松驰": "松弛", "坐阵": "坐镇", "针贬": "针砭", "侯车": "候车",
    "气慨": "气概", "震憾": "震撼", "辨论": "辩论", "精萃": "精粹", "修茸": "修葺",
    "凑和": "凑合", "签定": "签订", "度过难关": "渡过难关",
}

DEFAULT_WHITELIST = ("mp.weixin.qq.com", "weixin.qq.com", "qq.com", "gov.cn", "qingdao.gov.cn", "shinan.gov.cn",
                     "people.com.cn", "xinhuanet.com", "news.cn")

DEFAULT_CHECKLIST = (
    {"id": "source", "label": "信息来源可靠，数据、时间、地点、人名已核对", "required": True},
    {"id": "privacy", "label": "不含居民的姓名、电话、住址、照片等个人信息（或已取得同意）", "required": True},
    {"id": "politics", "label": "涉及政策的表述与上级发布一致，无错误提法", "required": True},
    {"id": "ads", "label": "无商业广告、无违规推广", "required": False},
)

# finding code → default level
DEFAULT_LEVELS = {
    "wrong_phrase": WARN, "banned_word": BLOCK, "sensitive_word": WARN, "empty_alt": WARN, "outside_link": BLOCK,
    "no_cover": BLOCK, "day_past": BLOCK, "day_conflict": WARN, "expired": BLOCK, "expires_before_day": BLOCK,
    "checklist": BLOCK,
}


@record
class Finding:
    check: str  # text / time / policy (文字关 / 时间关 / 政策关)
    code: str
    level: str  # block / warn
    message: str
    article: int = 0  # 1-based, 0 for the post

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@record
class CheckPolicy:
    """What a district checks: editable by the district (stored as JSON; absent: these defaults)."""

    banned_words: tuple[str, ...] = ()
    sensitive_words: tuple[str, ...] = ()
    wrong_phrases: dict[str, str] = field(default_factory=lambda: dict(WRONG_PHRASES))
    link_whitelist: tuple[str, ...] = DEFAULT_WHITELIST
    checklist: tuple[dict[str, Any], ...] = DEFAULT_CHECKLIST
    levels: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LEVELS))

    def level(self, code: str) -> str:
        return self.levels.get(code, DEFAULT_LEVELS.get(code, WARN))

    def to_dict(self) -> dict[str, Any]:
        return {"banned_words": list(self.banned_words), "sensitive_words": list(self.sensitive_words),
                "wrong_phrases": dict(self.wrong_phrases), "link_whitelist": list(self.link_whitelist),
                "checklist": [dict(i) for i in self.checklist], "levels": dict(self.levels)}

    @classmethod
    def from_dict(cls, data: Any) -> "CheckPolicy":
        """Strict: a malformed policy is a clear 400, never stored."""
        if not isinstance(data, dict):
            raise BadRequest("检查规则应为JSON对象", code="invalid_policy")

        def words(name: str, default: Iterable[str]) -> tuple[str, ...]:
            value = data.get(name, list(default))
            if not isinstance(value, list) or not all(isinstance(w, str) and w.strip() for w in value):
                raise BadRequest(f"{name} 应为非空字符串的列表", code="invalid_policy")
            return tuple(dict.fromkeys(w.strip() for w in value))

        wrong = data.get("wrong_phrases", WRONG_PHRASES)
        if not isinstance(wrong, dict) or not all(isinstance(k, str) and k and isinstance(v, str)
                                                  for k, v in wrong.items()):
            raise BadRequest("wrong_phrases 应为 {错误写法: 正确写法}", code="invalid_policy")
        checklist = data.get("checklist", [dict(i) for i in DEFAULT_CHECKLIST])
        if not isinstance(checklist, list) or not all(
                isinstance(i, dict) and isinstance(i.get("id"), str) and i["id"] and isinstance(i.get("label"), str)
                for i in checklist):
            raise BadRequest("checklist 应为 [{id, label, required}] 的列表", code="invalid_policy")
        levels = data.get("levels", {})
        if not isinstance(levels, dict) or any(v not in (BLOCK, WARN) or k not in DEFAULT_LEVELS
                                               for k, v in levels.items()):
            raise BadRequest(f"levels 的键应为 {sorted(DEFAULT_LEVELS)} 之一，值为 block 或 warn",
                             code="invalid_policy")
        return cls(banned_words=words("banned_words", ()), sensitive_words=words("sensitive_words", ()),
                   wrong_phrases=dict(wrong), link_whitelist=words("link_whitelist", DEFAULT_WHITELIST),
                   checklist=tuple({"id": i["id"], "label": i["label"], "required": bool(i.get("required", True))}
                                   for i in checklist),
                   levels={**DEFAULT_LEVELS, **levels})


def _allowed(url: str, whitelist: Iterable[str]) -> bool:
    if url.startswith(("#", "mailto:", "tel:")):
        return True
    host = host_of(url)
    if not host:
        return False
    return any(host == w or host.endswith("." + w) for w in whitelist)


def text_findings(articles: Iterable[ArticleDraft], policy: CheckPolicy) -> list[Finding]:
    """文字关."""
    found: list[Finding] = []

    def add(code: str, message: str, index: int) -> None:
        found.append(Finding("text", code, policy.level(code), message, index))

    for i, a in enumerate(articles, start=1):
        words = "\n".join((a.title, a.author, a.digest, plain_text(a.content)))
        for wrong, right in policy.wrong_phrases.items():
            if wrong in words:
                add("wrong_phrase", f"疑似错别字“{wrong}”，应为“{right}”", i)
        for word in policy.banned_words:
            if word in words:
                add("banned_word", f"含有禁用词“{word}”", i)
        for word in policy.sensitive_words:
            if word in words:
                add("sensitive_word", f"含有敏感词“{word}”，请确认表述", i)
        for tag in IMG_TAG_RE.findall(a.content):
            m = ALT_RE.search(tag)
            alt = next((g for g in m.groups()[1:] if g is not None), "") if m else ""
            if not alt.strip():
                add("empty_alt", "图片缺少替代文字（alt），读屏软件的用户无法知道图片内容", i)
        links = HREF_RE.findall(a.content) + ([a.content_source_url] if a.content_source_url else [])
        for url in links:
            if not _allowed(url, policy.link_whitelist):
                add("outside_link", f"链接不在白名单内：{url}", i)
        if not a.cover_media_id:
            add("no_cover", "缺少封面图（需上传为永久素材）", i)
    return found


def time_findings(post: Post, today: date, same_day_posts: Iterable[Post], policy: CheckPolicy) -> list[Finding]:
    """时间关: `same_day_posts` are the account's other posts planned for the same day."""
    found: list[Finding] = []

    def add(code: str, message: str) -> None:
        found.append(Finding("time", code, policy.level(code), message))

    if post.planned_day < today and post.state not in ("sent", "failed"):
        add("day_past", f"计划发送日 {post.planned_day} 已过")
    others = [p for p in same_day_posts if p.post_id != post.post_id and p.state not in ("topic", "failed")]
    for other in others:
        add("day_conflict", f"同一天已有另一篇稿件“{other.topic}”（{other.slot}），公众号每天只发一次")
    if post.expires_on is not None:
        if post.expires_on < today:
            add("expired", f"内容有效期至 {post.expires_on}，已经过期（如活动已结束）")
        elif post.expires_on < post.planned_day:
            add("expires_before_day", f"内容有效期至 {post.expires_on}，早于计划发送日 {post.planned_day}")
    return found


def policy_findings(ticked: Iterable[str], policy: CheckPolicy) -> list[Finding]:
    """政策关: required items of the checklist the reviewer has not ticked."""
    ticked = set(ticked)
    return [Finding("policy", "checklist", policy.level("checklist") if item.get("required", True) else WARN,
                    f"未勾选：{item['label']}") for item in policy.checklist if item["id"] not in ticked]


def blocking(findings: Iterable[Finding]) -> list[str]:
    return [f.message for f in findings if f.level == BLOCK]


def all_findings(post: Post, today: date, same_day_posts: Iterable[Post], policy: CheckPolicy) -> list[Finding]:
    return text_findings(post.articles, policy) + time_findings(post, today, same_day_posts, policy)

