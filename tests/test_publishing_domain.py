"""Publishing's domain, pure: WeChat's limits, the workflow table, revisions and diffs, the three checks."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from chalicelib.domain import checks, publishing as pub
from chalicelib.domain.errors import BadRequest, ConflictError, Forbidden

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)
DAY = date(2026, 12, 1)
IMG = "http://mmbiz.qpic.cn/mmbiz_png/abc/0"


def article(**kw) -> pub.ArticleDraft:
    base = dict(title="社区冬季安全提示", content=f'<p>请注意用电安全。</p><img src="{IMG}" alt="示意图">',
                author="社工小李", digest="冬季安全", cover_media_id="cover-1")
    return pub.ArticleDraft(**{**base, **kw})


def a_post(**kw) -> pub.Post:
    plan = pub.new_post("p1", "acc", "comm", "sub", "shinan", "冬季安全", DAY, "sw", NOW, articles=(article(),))
    return replace(plan.post, **kw)


# ---- WeChat's limits ------------------------------------------------------------------------------

def test_title_is_counted_in_bytes_as_wechat_counts():
    assert pub.wechat_bytes("社区ab") == 6
    pub.validate_article(article(title="汉" * 32))
    with pytest.raises(BadRequest) as err:
        pub.validate_article(article(title="汉" * 32 + "a"))
    assert err.value.code == "title_too_long" and "64" in err.value.message


def test_digest_and_content_limits():
    pub.validate_article(article(digest="字" * 120))
    with pytest.raises(BadRequest, match="摘要过长"):
        pub.validate_article(article(digest="字" * 121))
    with pytest.raises(BadRequest) as err:
        pub.validate_article(article(content="a" * 20_000))
    assert err.value.code == "content_too_long"
    pub.validate_article(article(content="a" * 19_999))


def test_outside_images_are_refused_with_a_clear_message():
    with pytest.raises(BadRequest) as err:
        pub.validate_article(article(content='<p>x</p><img src="https://example.com/a.jpg" alt="a">'))
    assert err.value.code == "outside_image" and "example.com/a.jpg" in err.value.message
    assert "上传图片" in err.value.message
    pub.validate_article(article(content=f'<img src="{IMG}" alt="a">'))


def test_parse_articles_refuses_malformed_input():
    with pytest.raises(BadRequest):
        pub.parse_articles([])
    with pytest.raises(BadRequest):
        pub.parse_articles([{"title": 5, "content": "x"}])
    with pytest.raises(BadRequest):
        pub.parse_articles([{"title": "t", "content": "x"}] * 9)
    [a] = pub.parse_articles([{"title": "标题", "content": "<p>正文</p>", "comments_open": True}])
    assert a.to_wechat()["need_open_comment"] == 1


# ---- the workflow ----------------------------------------------------------------------------------

def test_the_whole_path_topic_to_scheduled():
    plan = pub.new_post("p1", "acc", "comm", "sub", "shinan", "冬季安全", DAY, "director", NOW)
    assert plan.post.state == "topic" and plan.event["label"] == "提出选题"
    post = pub.plan_step(plan.post, "start", "sw", NOW).post
    assert post.state == "draft"
    post = pub.plan_edit(post, "sw", NOW, articles=(article(),)).post
    assert post.authors == ("sw",) and post.revision == 2
    post = pub.plan_step(post, "submit", "sw", NOW).post
    assert post.state == "first_review"
    step = pub.plan_step(post, "approve", "director", NOW)
    assert step.post.state == "second_review" and step.tell == "second_reviewer"
    step = pub.plan_step(step.post, "approve", "reviewer", NOW, checklist=("source",))
    assert step.post.state == "scheduled" and step.post.checklist == ("source",)
    assert step.post.reviewed_revision == 2


def test_send_back_needs_a_comment_and_returns_to_draft():
    post = a_post(state="first_review")
    with pytest.raises(BadRequest) as err:
        pub.plan_step(post, "send_back", "director", NOW, comment="  ")
    assert err.value.code == "comment_required"
    step = pub.plan_step(post, "send_back", "director", NOW, comment="标题有错字")
    assert step.post.state == "draft" and step.event["comment"] == "标题有错字" and step.tell == "authors"


def test_nobody_approves_their_own_draft():
    post = a_post(state="first_review", authors=("director",))
    with pytest.raises(Forbidden) as err:
        pub.plan_step(post, "approve", "director", NOW)
    assert err.value.code == "self_approval"


def test_a_post_in_review_is_locked_and_an_edit_after_approval_goes_back_to_first_review():
    for state in ("first_review", "second_review"):
        with pytest.raises(ConflictError) as err:
            pub.plan_edit(a_post(state=state), "sw", NOW, topic="改")
        assert err.value.code == "locked"
    step = pub.plan_edit(a_post(state="scheduled"), "sw", NOW, articles=(article(title="新标题"),))
    assert step.post.state == "first_review" and step.new_revision is not None and step.tell == "first_reviewer"
    same = pub.plan_edit(a_post(state="scheduled"), "sw", NOW, articles=(article(),))
    assert same.post.state == "scheduled" and same.new_revision is None  # nothing changed: no revision


def test_steps_that_the_state_does_not_allow_are_conflicts():
    with pytest.raises(ConflictError):
        pub.plan_step(a_post(state="draft"), "approve", "director", NOW)
    with pytest.raises(ConflictError):
        pub.plan_step(a_post(state="sent"), "send_back", "director", NOW, comment="x")
    assert pub.actions_in("first_review") == ["approve", "send_back"]
    assert all(step.permission.startswith("post.") for step in pub.WORKFLOW)


def test_blocking_findings_stop_submit_and_approval_but_not_send_back():
    post = a_post(state="draft")
    with pytest.raises(ConflictError) as err:
        pub.plan_step(post, "submit", "sw", NOW, blocking=["含有禁用词“x”"])
    assert err.value.code == "check_blocked" and "禁用词" in err.value.message
    review = a_post(state="first_review")
    pub.plan_step(review, "send_back", "director", NOW, comment="改", blocking=["x"])


def test_diff_since_the_last_review():
    old = pub.snapshot(a_post())
    new = pub.snapshot(a_post(articles=(article(title="社区冬季防火提示"),)))
    lines = pub.diff(old, new)
    assert "-【第1篇】标题：社区冬季安全提示" in lines and "+【第1篇】标题：社区冬季防火提示" in lines
    assert pub.diff(old, old) == []


def test_clientmsgid_is_stable_per_account_and_day_and_fits_wechat():
    a = pub.clientmsgid("xianggang-huayuan", DAY)
    assert a == pub.clientmsgid("xianggang-huayuan", DAY) != pub.clientmsgid("jiangsu-lu", DAY)
    assert a != pub.clientmsgid("xianggang-huayuan", date(2026, 12, 2)) and len(a) <= 64


# ---- the three checks ------------------------------------------------------------------------------

def test_text_check_finds_wrong_phrases_banned_words_alt_text_and_links():
    policy = checks.CheckPolicy.from_dict({"banned_words": ["赌博"], "sensitive_words": ["上访"]})
    a = article(content=('<p>请大家再接再励，远离赌博，有事不要上访。</p>'
                         f'<img src="{IMG}"><a href="https://evil.example.com/x">点此</a>'
                         '<a href="https://www.qingdao.gov.cn/n">政府网</a>'), cover_media_id="")
    found = {(f.code, f.level) for f in checks.text_findings([a], policy)}
    assert ("wrong_phrase", "warn") in found and ("banned_word", "block") in found
    assert ("sensitive_word", "warn") in found and ("empty_alt", "warn") in found
    assert ("outside_link", "block") in found and ("no_cover", "block") in found
    messages = [f.message for f in checks.text_findings([a], policy)]
    assert any("再接再厉" in m for m in messages) and any("evil.example.com" in m for m in messages)
    assert not any("qingdao.gov.cn" in m for m in messages)


def test_levels_are_data_the_district_edits():
    policy = checks.CheckPolicy.from_dict({"sensitive_words": ["上访"], "levels": {"sensitive_word": "block"}})
    [f] = checks.text_findings([article(content="<p>上访</p>")], policy)
    assert f.level == "block" and checks.blocking([f]) == [f.message]
    with pytest.raises(BadRequest):
        checks.CheckPolicy.from_dict({"levels": {"nope": "block"}})
    with pytest.raises(BadRequest):
        checks.CheckPolicy.from_dict({"banned_words": "赌博"})
    assert checks.CheckPolicy.from_dict(checks.CheckPolicy().to_dict()) == checks.CheckPolicy()


def test_time_check_past_day_conflict_and_expiry():
    policy = checks.CheckPolicy()
    today = date(2026, 11, 30)
    post = a_post(planned_day=date(2026, 12, 3), expires_on=date(2026, 12, 2))
    other = a_post(post_id="p2", topic="另一篇", state="second_review", planned_day=date(2026, 12, 3))
    codes = {f.code for f in checks.time_findings(post, today, [post, other], policy)}
    assert codes == {"day_conflict", "expires_before_day"}
    past = a_post(planned_day=date(2026, 11, 29), expires_on=date(2026, 11, 28))
    codes = {f.code for f in checks.time_findings(past, today, [], policy)}
    assert codes == {"day_past", "expired"}
    assert checks.time_findings(a_post(), today, [a_post()], policy) == []


def test_policy_checklist_blocks_until_required_items_are_ticked():
    policy = checks.CheckPolicy()
    required = [i["id"] for i in policy.checklist if i["required"]]
    assert checks.blocking(checks.policy_findings([], policy))
    assert checks.blocking(checks.policy_findings(required, policy)) == []


def test_job_reports_in_our_words():
    r = pub.job_outcome("MASSSENDJOBFINISH", "send success",
                        {"MsgID": "1000001625", "TotalCount": "100", "FilterCount": "80", "SentCount": "75",
                         "ErrorCount": "5"})
    assert r["outcome"] == "sent" and r["job_id"] == "1000001625" and r["counts"]["sent"] == 75
    assert pub.job_outcome("MASSSENDJOBFINISH", "err(30001)", {"MsgID": "1"})["outcome"] == "filtered"
    r = pub.job_outcome("PUBLISHJOBFINISH", None, {
        "PublishEventInfo.publish_id": "2247483", "PublishEventInfo.publish_status": "0",
        "PublishEventInfo.article_detail": '{"count": "1", "item": [{"idx": "1", "article_url": "https://mp.weixin.qq.com/s/x"}]}'})
    assert r == {"job_id": "2247483", "outcome": "sent", "status": "publish_status=0", "counts": {},
                 "article_urls": ["https://mp.weixin.qq.com/s/x"]}
