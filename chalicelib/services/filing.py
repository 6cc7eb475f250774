"""Filing a 便民纸条 from the H5 form, for staff (phone call, walk-in) and for partners (Open311): the one
filing service. Chat files through the same domain planner (`domain.filing.plan_need`) inside the chat
use case, so every channel classifies, routes, numbers and decides "is this a meal order" in one place.
"""
from __future__ import annotations


from chalicelib import bootstrap
from chalicelib.domain.effects import Decision, NewRequest, Notify
from chalicelib.domain.errors import DuplicateNeed, OverLimit, Refused
from chalicelib.domain.filing import Need, plan_need, with_sender_quota, without_capacity
from chalicelib.domain.limits import sender_quota
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.ports import AccountView
from chalicelib.domain.records import record


@record
class Filed:
    """What a channel tells the resident (or staff) after filing."""

    number: str
    category: str
    team_name: str | None
    reply: str  # the same words chat would answer with
    flags: tuple[str, ...] = ()
    duplicate: bool = False  # the resident's same need was already open: `number` is that request's
    due_at: object = None


def file_need(account: AccountView, need: Need, senders: tuple[str, ...] = ()) -> Filed:
    """File the need (always: see `domain.filing`), commit it with what it takes, publish its notices.

    A resident's own need counts against their limits (`domain.limits`; `senders` count too, e.g. an H5
    session): `OverLimit` when one more would pass them, or while staff have blocked the sender."""
    ports, now = bootstrap.ports(), bootstrap.now()
    household = ports.household(account.account_id, need.openid) if need.openid else None
    decision = plan_need(ports, account, now, need, household=household)
    if need.openid and need.actor == "resident":
        decision = with_sender_quota(decision, sender_quota(
            account.account_id, need.openid, now, ports.resident_limits(account.district_id), senders))
    if need.openid and need.actor != "resident" and decision.reply.text:  # staff filed for a resident known in
        filed = next(e for e in decision.effects if isinstance(e, NewRequest))  # WeChat: they hear it there
        decision = Decision(decision.reply, tuple(decision.effects) + (Notify(
            account.account_id, need.openid, "request_update", decision.reply.text,
            {"number": filed.number, "state": "已提交", "team": ""}),))
    unit_of_work = bootstrap.unit_of_work()
    try:
        unit_of_work.commit(None, NO_REPLY, decision.effects, now)
    except OverLimit:
        raise
    except Refused as refused:  # the meal's last places went meanwhile: filed all the same, flagged
        decision = without_capacity(decision, refused.reply)
        unit_of_work.commit(None, NO_REPLY, decision.effects, now)
    except DuplicateNeed as duplicate:
        request = ports.request(duplicate.number)
        return Filed(duplicate.number, request.category if request else "other", None, "", duplicate=True)
    request = next(e for e in decision.effects if isinstance(e, NewRequest))
    team = ports.team_name(request.district_id, request.community_id, request.team_id, request.department_id)
    flags = next(tuple(e.flags) for e in decision.effects if isinstance(e, NewRequest))
    return Filed(request.number, request.category, team, decision.reply.text or "", flags, due_at=request.due_at)
