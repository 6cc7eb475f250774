"""What residents send (inbound messages and events) and what the platform answers (replies).

Plain data: the WeChat protocol adapter (`chalicelib.wechat.protocol`) turns XML into these and back.
"""
from __future__ import annotations

from dataclasses import asdict, field
from datetime import datetime

from chalicelib.domain.records import record

MESSAGE_KINDS = ("text", "image", "voice", "video", "shortvideo", "location", "link", "event", "unknown")
EVENTS = ("subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "MASSSENDJOBFINISH",
          "TEMPLATESENDJOBFINISH", "PUBLISHJOBFINISH")


@record
class Inbound:
    """One message or event from a resident (or from WeChat about a job), as WeChat delivered it."""

    kind: str  # one of MESSAGE_KINDS ("unknown" for types the platform does not know)
    openid: str  # FromUserName
    account_original_id: str  # ToUserName (gh_…)
    created_at: datetime  # CreateTime, timezone-aware UTC
    msg_id: str | None = None  # MsgId (messages); events have none
    text: str | None = None  # Content (text) or Recognition (voice, when WeChat recognised it)
    media_id: str | None = None
    recognition: str | None = None  # voice only
    event: str | None = None  # one of EVENTS, or another WeChat event name
    event_key: str | None = None  # EventKey: menu key, URL, or qrscene_… for a subscribe by QR code
    scene: str | None = None  # the QR scene of subscribe/SCAN, without the qrscene_ prefix
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None  # location label
    title: str | None = None  # link title
    url: str | None = None  # link url
    status: str | None = None  # Status of MASSSENDJOBFINISH / TEMPLATESENDJOBFINISH
    extra: dict[str, str] = field(default_factory=dict)  # any other fields, e.g. PublishEventInfo of PUBLISHJOBFINISH

    @property
    def dedupe_key(self) -> str:
        """MsgId for messages; FromUserName + CreateTime + Event for events (WeChat's own advice)."""
        if self.msg_id:
            return f"msg#{self.msg_id}"
        return f"evt#{self.openid}#{int(self.created_at.timestamp())}#{self.event or self.kind}"


@record
class Article:
    title: str
    description: str = ""
    url: str = ""
    image_url: str = ""


@record
class Reply:
    """The passive reply to one inbound message: text, news (articles), or nothing (`success`)."""

    text: str | None = None
    articles: tuple[Article, ...] = ()

    @property
    def empty(self) -> bool:
        return self.text is None and not self.articles


NO_REPLY = Reply()


def inbound_to_dict(message: Inbound) -> dict:
    """A JSON-able form (for parking a message on a queue)."""

    data = asdict(message)
    data["created_at"] = message.created_at.isoformat()
    return data


def inbound_from_dict(data: dict) -> Inbound:
    return Inbound(**{**data, "created_at": datetime.fromisoformat(data["created_at"])})
