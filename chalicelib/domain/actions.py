"""The gateway's own actions: welcome, help, voice and location, WeChat's job reports (the alliance's
matrix search lives in `domain/matrix.py`)."""
from __future__ import annotations

from chalicelib.domain.messages import Article, Reply
from chalicelib.domain.effects import Decision, FollowChanged
from chalicelib.domain.publishing import PostJobReported, job_outcome
from chalicelib.domain.router import Context, router


@router.action("welcome")
def welcome(ctx: Context) -> Decision:
    m = ctx.message
    follow = FollowChanged(ctx.account.account_id, m.openid, subscribed=True, scene=m.scene)
    return Decision(Reply(text=(
        f"欢迎关注“{ctx.account.name}”！本号是社区微信联盟的一员，菜单分三块：\n"
        "【微市南】区里的政务发布、通知和联盟内的全部公众号；\n"
        "【微社区】本社区的活动报名、食堂菜单和大事小情；\n"
        "【微服务】便民纸条和社保查询、预约挂号等便民服务。\n"
        "有事需要社区帮忙，直接在这里留言就是一张“便民纸条”，社区会安排人员并回复您。\n"
        "回复“帮助”查看用法。")), (follow,))


@router.action("reply_text")
def reply_text(ctx: Context) -> Decision:
    """A fixed answer staff wrote into the rule (`params.text`)."""
    return Decision(Reply(text=str(ctx.params.get("text", ""))))


@router.action("reply_news")
def reply_news(ctx: Context) -> Decision:
    """Articles staff put in the rule (`params.articles`: title, description, url, image_url); WeChat shows one."""
    articles = tuple(Article(**{k: str(v) for k, v in a.items() if k in ("title", "description", "url", "image_url")})
                     for a in ctx.params.get("articles", [])[:1])
    return Decision(Reply(articles=articles))


@router.action("help")
def help_(ctx: Context) -> Decision:
    return Decision(Reply(text=(
        "您可以这样使用：\n"
        "1. 直接写下需要帮忙的事（例如“我们老两口身体不便，明天能否派人送饭？”），就是一张便民纸条，"
        "社区会安排服务人员并回复您；\n"
        "2. 回复“我的纸条”，查看办理进度；\n"
        "3. 回复“找”加关键词（例如“找香港花园”），查找联盟里的公众号；\n"
        "4. 点菜单“微市南 / 微社区 / 微服务”，使用更多服务。")))


@router.action("farewell")
def farewell(ctx: Context) -> Decision:
    return Decision(effects=(FollowChanged(ctx.account.account_id, ctx.message.openid, subscribed=False),))


@router.action("ignore")
def ignore(ctx: Context) -> Decision:
    return Decision()


@router.action("job_report")
def job_report(ctx: Context) -> Decision:
    """MASSSENDJOBFINISH / TEMPLATESENDJOBFINISH / PUBLISHJOBFINISH: WeChat reports on our own jobs.

    Nothing to answer. A mass send's or a publish's outcome (sent, filtered, failed, article URLs) is
    recorded on the account's publishing day (`domain.publishing.job_outcome`)."""
    m = ctx.message
    if m.event not in ("MASSSENDJOBFINISH", "PUBLISHJOBFINISH"):
        return Decision()
    report = job_outcome(m.event, m.status, m.extra)
    if not report["job_id"]:
        return Decision()
    return Decision(effects=(PostJobReported(ctx.account.account_id, str(report["job_id"]), report["outcome"],
                                             report["status"], report["counts"], tuple(report["article_urls"])),))


@router.action("request_guide")
def request_guide(ctx: Context) -> Decision:
    return Decision(Reply(text="请直接在对话框里写下需要社区帮忙的事，也可以发语音或照片。"
                               "写清楚时间、地点和联系方式，社区会更快安排。"))


@router.action("location")
def location(ctx: Context) -> Decision:
    where = ctx.message.label or "您的位置"
    return Decision(Reply(text=f"已收到您发送的位置：{where}。如需上门服务，请再写下具体需要帮忙的事。"))


@router.action("link")
def link(ctx: Context) -> Decision:
    title = ctx.message.title or "链接"
    return Decision(Reply(text=f"已收到您分享的“{title}”。如需社区帮忙，请用文字写下具体的事。"))
