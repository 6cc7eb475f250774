"""Publishing (信息发布): posts, their articles within WeChat's limits, revisions, and the five-step review.

The district's rule (《社区微信信息发布管理制度》): 社区选题 → 大学生社工编写 → 主任一审 → 街道二审 → 社区发布.
Here that is a table of steps (`WORKFLOW`): topic → draft → first_review → second_review → scheduled →
sent (or failed). Either reviewer approves or sends back with a comment; an edit after approval goes back
to the first review; nobody approves a draft they edited; a post in review is locked against edits.
Who may take a step is a scope action (`chalicelib.auth.scope`); this module says which action each
step needs and plans the change as plain data (`StepPlan`), which the service writes.
"""
from __future__ import annotations

import difflib
import hashlib
import html
import json
import re
from dataclasses import field, replace
from datetime import date, datetime
from typing import Any, Iterable

from chalicelib.domain.bulletin import MonthTally, tally_review
from chalicelib.domain.dates import local_date
from chalicelib.domain.errors import BadRequest, ConflictError, Forbidden
from chalicelib.domain.patterns import lazy_re
from chalicelib.domain.records import record

# ---- WeChat's limits on an article (draft/add) -----------------------------------------------------

TITLE_MAX_BYTES = 64  # WeChat counts a CJK character as two bytes: 32 汉字
AUTHOR_MAX_BYTES = 16
DIGEST_MAX_CHARS = 120
CONTENT_MAX_CHARS = 20_000  # under this
CONTENT_MAX_BYTES = 1024 * 1024  # under this
MAX_ARTICLES = 8
WECHAT_IMAGE_HOSTS = ("mmbiz.qpic.cn", "mmbiz.qlogo.cn", "mmecoa.qpic.cn")
SLOTS = ("08:00", "12:00", "18:00")  # the times the editor offers first
DEFAULT_SLOT = "08:00"  # the district's daily post time, unless an account chose its own (Account.post_time)
EARLIEST_SLOT, LATEST_SLOT = "06:00", "22:00"
SLOT_HINT = "发送时间应为 06:00–22:00 之间的整点或半点"


def valid_slot(value: object) -> bool:
    """A send time (北京时间): on the hour or the half hour, 06:00–22:00 — `daily-post` runs every half hour."""
    return (isinstance(value, str) and len(value) == 5 and value[2] == ":" and value[:2].isdigit()
            and value[3:] in ("00", "30") and EARLIEST_SLOT <= value <= LATEST_SLOT)

IMG_SRC_RE = lazy_re(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
IMG_TAG_RE = lazy_re(r"<img\b[^>]*>", re.IGNORECASE)
ALT_RE = lazy_re(r"\balt\s*=\s*(\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
HREF_RE = lazy_re(r"<a\b[^>]*?\bhref\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
TAG_RE = lazy_re(r"<[^>]+>")


def wechat_bytes(text: str) -> int:
    """Length as WeChat counts a title: ASCII one byte, anything else two."""
    return sum(1 if ord(ch) < 128 else 2 for ch in text)


def host_of(url: str) -> str:
    m = re.match(r"^(?:https?:)?//([^/:?#]+)", url.strip(), re.IGNORECASE)
    return m.group(1).lower() if m else ""


def is_wechat_image(url: str) -> bool:
    host = host_of(url)
    return any(host == h or host.endswith("." + h) for h in WECHAT_IMAGE_HOSTS)


def plain_text(content: str) -> str:
    return html.unescape(TAG_RE.sub("", content))


@record
class ArticleDraft:
    """One article (图文) of a post, as WeChat's draft/add takes it."""

    title: str
    content: str
    author: str = ""
    digest: str = ""
    cover_media_id: str = ""  # permanent material (thumb_media_id)
    cover_url: str = ""  # its mmbiz URL, for the preview
    content_source_url: str = ""
    comments_open: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> "ArticleDraft":
        if not isinstance(data, dict):
            raise BadRequest("每篇文章应为对象 {title, content, …}", code="invalid_article")
        values: dict[str, Any] = {}
        for name in ("title", "content", "author", "digest", "cover_media_id", "cover_url", "content_source_url"):
            value = data.get(name, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise BadRequest(f"文章字段 {name} 应为字符串", code="invalid_article")
            values[name] = value.strip() if name != "content" else value
        values["comments_open"] = bool(data.get("comments_open", False))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "content": self.content, "author": self.author, "digest": self.digest,
                "cover_media_id": self.cover_media_id, "cover_url": self.cover_url,
                "content_source_url": self.content_source_url, "comments_open": self.comments_open}

    def to_wechat(self) -> dict[str, Any]:
        """The article as draft/add wants it."""
        return {"title": self.title, "author": self.author, "digest": self.digest, "content": self.content,
                "content_source_url": self.content_source_url, "thumb_media_id": self.cover_media_id,
                "need_open_comment": 1 if self.comments_open else 0, "only_fans_can_comment": 0}


def validate_article(article: ArticleDraft, index: int = 1) -> None:
    """WeChat's hard limits: refused with a clear message (what, where, the limit)."""
    where = f"第{index}篇"
    if not article.title:
        raise BadRequest(f"{where}文章缺少标题", code="title_missing")
    if wechat_bytes(article.title) > TITLE_MAX_BYTES:
        raise BadRequest(f"{where}标题过长：微信按字节计算最多{TITLE_MAX_BYTES}字节（约32个汉字），现为"
                         f"{wechat_bytes(article.title)}字节", code="title_too_long")
    if wechat_bytes(article.author) > AUTHOR_MAX_BYTES:
        raise BadRequest(f"{where}作者名过长：最多{AUTHOR_MAX_BYTES}字节（约8个汉字）", code="author_too_long")
    if len(article.digest) > DIGEST_MAX_CHARS:
        raise BadRequest(f"{where}摘要过长：最多{DIGEST_MAX_CHARS}个字，现为{len(article.digest)}个字",
                         code="digest_too_long")
    if len(article.content) >= CONTENT_MAX_CHARS:
        raise BadRequest(f"{where}正文过长：须少于{CONTENT_MAX_CHARS}个字符，现为{len(article.content)}个字符",
                         code="content_too_long")
    if len(article.content.encode("utf-8")) >= CONTENT_MAX_BYTES:
        raise BadRequest(f"{where}正文过大：须小于1MB", code="content_too_large")
    outside = [src for src in IMG_SRC_RE.findall(article.content) if not is_wechat_image(src)]
    if outside:
        raise BadRequest(f"{where}正文含有外部图片，微信会将其过滤：{', '.join(outside[:3])}。"
                         "请通过“上传图片”把图片传到微信后再插入", code="outside_image")
    if article.cover_url and not is_wechat_image(article.cover_url):
        raise BadRequest(f"{where}封面图须先上传到微信（永久素材）", code="outside_image")
    if article.content_source_url and not re.match(r"^https?://", article.content_source_url):
        raise BadRequest(f"{where}“阅读原文”链接应以 http:// 或 https:// 开头", code="invalid_url")


def parse_articles(raw: Any) -> tuple[ArticleDraft, ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ARTICLES:
        raise BadRequest(f"articles 应为 1 到 {MAX_ARTICLES} 篇文章的列表", code="invalid_article")
    articles = tuple(ArticleDraft.from_dict(a) for a in raw)
    for i, article in enumerate(articles, start=1):
        validate_article(article, i)
    return articles


# ---- the workflow, as data ---------------------------------------------------------------------------

STATES = ("topic", "draft", "first_review", "second_review", "scheduled", "sent", "failed")
STATE_LABELS = {"topic": "选题", "draft": "编写中", "first_review": "待一审", "second_review": "待二审",
                "scheduled": "已批准待发", "sent": "已发送", "failed": "发送失败"}
EDITABLE = frozenset({"topic", "draft", "scheduled", "failed"})  # first/second review: locked
REAPPROVAL = {"scheduled": "first_review", "failed": "draft"}  # an edit here moves the post on


@record
class Step:
    """One move of the workflow: from a state, by an action, to a state, if the actor holds `permission`."""

    action: str
    source: str
    target: str
    permission: str  # a scope action (chalicelib.auth.scope.ACTIONS)
    label: str
    needs_comment: bool = False
    review: bool = False  # an approval: nobody approves their own work; the text check must pass
    tell: str = ""  # who is told next: "first_reviewer", "second_reviewer", "authors"


WORKFLOW: tuple[Step, ...] = (
    Step("start", "topic", "draft", "post.write", "开始编写", tell=""),
    Step("submit", "draft", "first_review", "post.write", "提交一审", tell="first_reviewer"),
    Step("approve", "first_review", "second_review", "post.review_first", "一审通过", review=True,
         tell="second_reviewer"),
    Step("send_back", "first_review", "draft", "post.review_first", "一审退回修改", needs_comment=True,
         tell="authors"),
    Step("approve", "second_review", "scheduled", "post.review_second", "二审通过", review=True, tell="authors"),
    Step("send_back", "second_review", "draft", "post.review_second", "二审退回修改", needs_comment=True,
         tell="authors"),
    Step("withdraw", "scheduled", "draft", "post.write", "撤回修改"),
)
STEPS = {(s.source, s.action): s for s in WORKFLOW}
# What the daily job does (not a person): scheduled → sent / failed (store.posts.finish_day, fail_day).


def step_for(state: str, action: str) -> Step:
    step = STEPS.get((state, action))
    if step is None:
        raise ConflictError(f"当前状态“{STATE_LABELS.get(state, state)}”下不能执行此操作", code="invalid_step")
    return step


def actions_in(state: str) -> list[str]:
    return [s.action for s in WORKFLOW if s.source == state]


# ---- posts and revisions -----------------------------------------------------------------------------

@record
class Post:
    """A send (一次群发): one or more articles for an account's planned day and slot."""

    post_id: str
    account_id: str
    community_id: str
    subdistrict_id: str
    district_id: str
    topic: str  # the 选题 in a line
    planned_day: date
    slot: str = DEFAULT_SLOT
    state: str = "topic"
    articles: tuple[ArticleDraft, ...] = ()
    expires_on: date | None = None  # time-bound content (an activity): not to be sent after this day
    revision: int = 0
    reviewed_revision: int = 0  # the revision the last review saw (the diff starts there)
    authors: tuple[str, ...] = ()  # everybody who wrote this version's text: none of them may approve it
    created_by: str = ""
    checklist: tuple[str, ...] = ()  # 政策关 items ticked by the second reviewer
    version: int = 0  # optimistic lock
    state_since: datetime | None = None  # when the post entered its state (a review's wait starts there)


def clientmsgid(account_id: str, day: date) -> str:
    """The mass send's clientmsgid: one per account and day (WeChat refuses a second send with it)."""
    return f"dp{day:%Y%m%d}{hashlib.sha1(account_id.encode()).hexdigest()[:20]}"


def snapshot(post: Post) -> dict[str, Any]:
    """What a revision keeps: the text and the plan."""
    return {"topic": post.topic, "planned_day": post.planned_day.isoformat(), "slot": post.slot,
            "expires_on": post.expires_on.isoformat() if post.expires_on else None,
            "articles": [a.to_dict() for a in post.articles]}


def _lines(snap: dict[str, Any] | None) -> list[str]:
    if not snap:
        return []
    lines = [f"选题：{snap.get('topic', '')}", f"计划：{snap.get('planned_day')} {snap.get('slot')}"]
    if snap.get("expires_on"):
        lines.append(f"有效期至：{snap['expires_on']}")
    for i, a in enumerate(snap.get("articles", []), start=1):
        lines += [f"【第{i}篇】标题：{a.get('title', '')}", f"作者：{a.get('author', '')}",
                  f"摘要：{a.get('digest', '')}", f"封面：{a.get('cover_url') or a.get('cover_media_id') or '无'}",
                  f"原文链接：{a.get('content_source_url', '')}", f"留言：{'开' if a.get('comments_open') else '关'}"]
        body = re.sub(r"(</p>|<br\s*/?>|</h\d>|</li>|</section>)", r"\1\n", a.get("content", ""))
        lines += [line for line in body.split("\n") if line.strip()]
    return lines


def diff(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """A unified diff between two revisions (what a reviewer sees: changes since the last review)."""
    return list(difflib.unified_diff(_lines(old), _lines(new), "上次审核", "当前版本", lineterm="", n=1))


# ---- planning a step ---------------------------------------------------------------------------------

@record
class StepPlan:
    """The outcome of a step: the post after it, the audit event, who is told, a new revision to store."""

    post: Post
    event: dict[str, Any]
    tell: str = ""
    new_revision: dict[str, Any] | None = None
    tally: MonthTally | None = None  # a review step: the community's month counters (the bulletin's 审核用时)


def plan_step(post: Post, action: str, actor: str, now: datetime, comment: str = "",
              blocking: Iterable[str] = (), checklist: Iterable[str] = ()) -> StepPlan:
    """Plan `action` by `actor` on `post`. Permission (the role and scope) is the caller's check;
    this one holds the rules of the workflow itself: the state table, the comment, self-approval,
    and blocking findings (`blocking`: messages of checks that stop an approval or a submit)."""
    step = step_for(post.state, action)
    comment = (comment or "").strip()
    if step.needs_comment and not comment:
        raise BadRequest("退回修改需要写明意见", code="comment_required")
    if step.review and actor in post.authors:
        raise Forbidden("不能审核自己编写或修改过的稿件", code="self_approval")
    if action == "submit" and not post.articles:
        raise BadRequest("稿件还没有正文，不能提交", code="empty_post")
    blocking = list(blocking)
    if blocking and (action == "submit" or step.review):
        raise ConflictError("检查未通过：" + "；".join(blocking), code="check_blocked")
    changes: dict[str, Any] = {"state": step.target, "state_since": now}
    tally = None
    if (step.review or step.action == "send_back") and post.state_since is not None:
        tally = tally_review(local_date(now), (now - post.state_since).total_seconds() / 3600)
    if step.review or step.action == "send_back":
        changes["reviewed_revision"] = post.revision
    if step.review and step.target == "scheduled":
        changes["checklist"] = tuple(checklist)
    after = replace(post, **changes)
    event = {"kind": "step", "action": action, "label": step.label, "from": post.state, "to": step.target,
             "by": actor, "at": now.isoformat(), "comment": comment, "revision": post.revision}
    return StepPlan(after, event, tell=step.tell, tally=tally)


def plan_edit(post: Post, actor: str, now: datetime, *, topic: str | None = None,
              articles: tuple[ArticleDraft, ...] | None = None, planned_day: date | None = None,
              slot: str | None = None, expires_on: date | None | str = "keep") -> StepPlan:
    """An edit makes a revision. Locked in review; after approval it goes back to the first review."""
    if post.state not in EDITABLE:
        raise ConflictError(f"稿件{STATE_LABELS.get(post.state, post.state)}，审核期间已锁定，不能修改",
                            code="locked")
    if slot is not None and not valid_slot(slot):
        raise BadRequest(SLOT_HINT, code="invalid_slot")
    changes: dict[str, Any] = {}
    if topic is not None:
        if not topic.strip():
            raise BadRequest("选题不能为空", code="missing_field")
        changes["topic"] = topic.strip()
    if articles is not None:
        changes["articles"] = articles
    if planned_day is not None:
        changes["planned_day"] = planned_day
    if slot is not None:
        changes["slot"] = slot
    if expires_on != "keep":
        changes["expires_on"] = expires_on
    edited = replace(post, **changes)
    if snapshot(edited) == snapshot(post):
        return StepPlan(post, {}, new_revision=None)
    state = REAPPROVAL.get(post.state, post.state)
    if post.state == "topic" and articles:
        state = "draft"
    authors = post.authors if actor in post.authors else post.authors + (actor,)
    after = replace(edited, state=state, revision=post.revision + 1, authors=authors,
                    state_since=now if state != post.state else post.state_since)
    event = {"kind": "edit", "action": "edit", "label": "修改稿件" if state == post.state else "修改后重新送审",
             "from": post.state, "to": state, "by": actor, "at": now.isoformat(), "comment": "",
             "revision": after.revision}
    return StepPlan(after, event, tell="first_reviewer" if state == "first_review" else "",
                    new_revision={"revision": after.revision, "by": actor, "at": now.isoformat(),
                                  "snapshot": snapshot(after)})


def new_post(post_id: str, account_id: str, community_id: str, subdistrict_id: str, district_id: str,
             topic: str, planned_day: date, actor: str, now: datetime, slot: str = DEFAULT_SLOT,
             articles: tuple[ArticleDraft, ...] = (), expires_on: date | None = None) -> StepPlan:
    """社区选题: a topic (any community staff), or straight a draft when articles come with it."""
    if not topic.strip():
        raise BadRequest("选题不能为空", code="missing_field")
    if not valid_slot(slot):
        raise BadRequest(SLOT_HINT, code="invalid_slot")
    state = "draft" if articles else "topic"
    post = Post(post_id, account_id, community_id, subdistrict_id, district_id, topic.strip(), planned_day,
                slot=slot, state=state, articles=articles, expires_on=expires_on, revision=1,
                authors=(actor,) if articles else (), created_by=actor, state_since=now)
    event = {"kind": "step", "action": "propose", "label": "提出选题" if state == "topic" else "新建稿件",
             "from": "", "to": state, "by": actor, "at": now.isoformat(), "comment": "", "revision": 1}
    return StepPlan(post, event, new_revision={"revision": 1, "by": actor, "at": now.isoformat(),
                                               "snapshot": snapshot(post)})


# ---- the day's outcome (for the monthly bulletin) ----------------------------------------------------

OUTCOMES = ("claimed", "sent", "filtered", "failed", "missed")
FINAL_OUTCOMES = frozenset({"sent", "filtered", "failed"})


@record
class PostJobReported:
    """Effect: WeChat reported on one of our sends (MASSSENDJOBFINISH / PUBLISHJOBFINISH)."""

    account_id: str
    job_id: str
    outcome: str  # sent / filtered / failed
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    article_urls: tuple[str, ...] = ()


FREEPUBLISH_NOTE = "本月群发次数已用完，已改为“发表”：文章发布到公众号主页，但不会推送通知给关注者。"


def job_outcome(event: str, status: str | None, extra: dict[str, str]) -> dict[str, Any]:
    """MASSSENDJOBFINISH / PUBLISHJOBFINISH, as WeChat reports them, in our words."""
    if event == "MASSSENDJOBFINISH":
        status = (status or "").strip()
        counts = {k: int(extra.get(name) or 0) for k, name in (
            ("total", "TotalCount"), ("filter", "FilterCount"), ("sent", "SentCount"), ("errors", "ErrorCount"))}
        if status == "send success":
            outcome = "sent"
        elif status.startswith("err(") or status == "send fail":
            # err(10001)…err(30003): 涉嫌广告/政治/…: WeChat filtered the content
            outcome = "filtered" if status.startswith("err(") else "failed"
        else:
            outcome = "failed"
        urls = []
        raw = extra.get("ArticleUrlResult.ResultList")
        if raw:
            try:
                items = json.loads(raw)
                items = items.get("item", items) if isinstance(items, dict) else items
                urls = [i.get("ArticleUrl") for i in (items if isinstance(items, list) else [items])
                        if isinstance(i, dict) and i.get("ArticleUrl")]
            except ValueError:
                urls = []
        return {"job_id": extra.get("MsgID") or extra.get("MsgId") or "", "outcome": outcome,
                "status": status, "counts": counts, "article_urls": urls}
    publish_status = str(extra.get("PublishEventInfo.publish_status", "")).strip()
    outcome = {"0": "sent", "2": "failed", "3": "failed", "4": "filtered", "5": "failed", "6": "filtered"}.get(
        publish_status, "failed")
    urls = []
    raw = extra.get("PublishEventInfo.article_detail")
    if raw:
        try:
            detail = json.loads(raw)
            items = detail.get("item", []) if isinstance(detail, dict) else detail
            items = items if isinstance(items, list) else [items]
            urls = [i.get("article_url") for i in items if isinstance(i, dict) and i.get("article_url")]
        except ValueError:
            urls = []
    return {"job_id": extra.get("PublishEventInfo.publish_id", ""), "outcome": outcome,
            "status": f"publish_status={publish_status}", "counts": {}, "article_urls": urls}
