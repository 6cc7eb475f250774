"""Convenience and partner services (便民服务, 部门对接) on every account.

Convenience services — 社保查询, 预约挂号, 违章查询, 找景点, 搜美食, 在线读报 — are links the district sets
(the defaults below are the demo's); 在线读报 points at the day's local paper, its link built from a date
pattern (`{yyyy}`, `{mm}`, `{dd}`, Shanghai day).

Partner services file 便民纸条 to their department through the one filing path (`domain.filing.plan_need`):
张玉法官工作室's 线上调解 (`调解 …`, category legal → judge-zhangyu), 消费维权e家 complaints (`消费投诉 …`,
consumer_complaint → consumer-rights), 明东心教育咨询 appointments (`预约咨询 …`, psychological →
mingdongxin-counselling). The studio's 团队简介 is a text, 家事课堂 and 阳光普法 its articles.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.domain.dates import local_date
from chalicelib.domain.effects import Decision
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.messages import Reply
from chalicelib.domain.filing import Need, plan_need
from chalicelib.domain.router import Context, router

CONVENIENCE = ("社保查询", "预约挂号", "违章查询", "找景点", "搜美食", "在线读报")
DEFAULT_LINKS: dict[str, Any] = {
    "convenience": {
        "社保查询": "https://www.12333.gov.cn/",
        "预约挂号": "https://www.qdwsjkw.cn/",
        "违章查询": "https://sd.122.gov.cn/",
        "找景点": "https://www.qingdao.gov.cn/",
        "搜美食": "https://www.qingdao.gov.cn/",
        "在线读报": "https://epaper.qingdaonews.com/qdrb/html/{yyyy}-{mm}/{dd}/node_1.htm",
    },
    "judge_studio": {
        "intro": "张玉法官工作室由市南区人民法院张玉法官牵头，专注婚姻家庭、邻里纠纷的诉前调解，"
                 "每周二、周四在社区坐班，线上调解全年受理。",
        "family_class": [{"title": "家事课堂：离婚时孩子的抚养权怎么定", "url": "https://www.qingdao.gov.cn/"},
                         {"title": "家事课堂：老人的赡养费怎么算", "url": "https://www.qingdao.gov.cn/"}],
        "law_education": [{"title": "阳光普法：遇到电信诈骗怎么办", "url": "https://www.qingdao.gov.cn/"},
                          {"title": "阳光普法：物业纠纷的法律知识", "url": "https://www.qingdao.gov.cn/"}],
    },
}
# Partner → (category of the 便民纸条, how residents start it, what the guide says)
PARTNERS = {
    "judge": ("legal", "调解"),
    "consumer": ("consumer_complaint", "消费投诉"),
    "counselling": ("psychological", "预约咨询"),
}
MIN_TEXT = 4


def links(ctx: Context) -> dict[str, Any]:
    stored = ctx.ports.alliance_links(ctx.account.district_id) or {}
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_LINKS.items()}
    for key, value in stored.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def paper_url(pattern: str, now: datetime) -> str:
    day = local_date(now)
    return pattern.replace("{yyyy}", f"{day:%Y}").replace("{mm}", f"{day:%m}").replace("{dd}", f"{day:%d}")


def check_links(body: Any) -> dict[str, Any]:
    """Staff's links: https URLs for the convenience services; 在线读报's pattern must hold the date."""
    if not isinstance(body, dict) or not isinstance(body.get("convenience", {}), dict):
        raise BadRequest("应为 {convenience: {名称: 网址}, judge_studio: {...}}", code="invalid_links")
    problems = []
    for name, url in body.get("convenience", {}).items():
        if name not in CONVENIENCE:
            problems.append(f"“{name}”不是便民服务之一（{'、'.join(CONVENIENCE)}）")
        elif not isinstance(url, str) or not url.startswith("https://") or len(url) > 500:
            problems.append(f"“{name}”的网址应以 https:// 开头，最多 500 个字符")
        elif name == "在线读报" and "{dd}" not in url:
            problems.append("“在线读报”的网址应包含日期占位符，例如 …/{yyyy}-{mm}/{dd}/node_1.htm")
    if problems:
        raise BadRequest("；".join(problems), code="invalid_links")
    return body


@router.action("convenience")
def convenience(ctx: Context) -> Decision:
    urls = links(ctx)["convenience"]
    lines = [f"· {name}：{paper_url(urls[name], ctx.now) if name == '在线读报' else urls[name]}"
             for name in CONVENIENCE if urls.get(name)]
    return Decision(Reply(text="便民服务（点链接打开）：\n" + "\n".join(lines)))


@router.action("read_paper")
def read_paper(ctx: Context) -> Decision:
    url = paper_url(links(ctx)["convenience"]["在线读报"], ctx.now)
    return Decision(Reply(text=f"在线读报：今天（{local_date(ctx.now):%m月%d日}）的青岛日报：{url}"))


@router.action("judge_studio")
def judge_studio(ctx: Context) -> Decision:
    studio = links(ctx)["judge_studio"]
    return Decision(Reply(text="张玉法官工作室：\n"
                               "1. 线上调解：回复“调解”加上纠纷的情况，例如“调解 邻居装修噪音影响休息”，工作室会联系您；\n"
                               f"2. 团队简介：{studio['intro']}\n"
                               "3. 家事课堂：回复“家事课堂”；\n4. 阳光普法：回复“阳光普法”。"))


def _articles(items: list[dict], empty: str) -> Decision:
    if not items:
        return Decision(Reply(text=empty))
    return Decision(Reply(text="\n".join(f"· {a['title']}：{a['url']}" for a in items[:8])))


@router.action("family_class")
def family_class(ctx: Context) -> Decision:
    return _articles(links(ctx)["judge_studio"].get("family_class", []), "家事课堂的文章还在准备中。")


@router.action("law_education")
def law_education(ctx: Context) -> Decision:
    return _articles(links(ctx)["judge_studio"].get("law_education", []), "阳光普法的文章还在准备中。")


GUIDES = {
    "judge": "张玉法官工作室·线上调解：请回复“调解”加上纠纷的情况，例如“调解 邻居装修噪音影响休息”。",
    "consumer": "消费维权e家：请回复“消费投诉”加上情况（商家、时间、金额），例如“消费投诉 某超市卖过期食品不退款”。",
    "counselling": "明东心教育咨询：请回复“预约咨询”加上想咨询的事和方便的时间，例如“预约咨询 孩子厌学 周六上午”。",
}


def _partner_file(ctx: Context, partner: str) -> Decision:
    text = str(ctx.params.get("text") or "").strip()
    if len(text) < MIN_TEXT:
        return Decision(Reply(text=GUIDES[partner]))
    category, word = PARTNERS[partner]
    return plan_need(ctx.ports, ctx.account, ctx.now, Need(text=f"{word}：{text}", channel="wechat",
                                                           openid=ctx.message.openid, category=category))


@router.action("mediation_request")
def mediation_request(ctx: Context) -> Decision:
    """线上调解: a 便民纸条 to 张玉法官工作室 (category legal)."""
    return _partner_file(ctx, "judge")


@router.action("consumer_complaint")
def consumer_complaint(ctx: Context) -> Decision:
    """消费维权e家: a complaint, filed as a 便民纸条 to the consumer-rights department."""
    return _partner_file(ctx, "consumer")


@router.action("counselling_request")
def counselling_request(ctx: Context) -> Decision:
    """明东心教育咨询: an appointment request, filed to the counselling centre."""
    return _partner_file(ctx, "counselling")
