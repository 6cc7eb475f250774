"""Alerts that reach staff in WeChat (工作提醒): binding a WeChat to a console account with a one-time code,
choosing what to hear, unbinding; and the `staff-alerts` job that turns a window's events into one digest
per staff member — a console notice always, and a WeChat message through the outbox for those bound (the
outbox worker sends it as a customer-service message, else the account's template message for
`staff_alert` on a service account, or its subscribe message).

Sources: the request audit trail (filed, assigned, escalated; written in the change's own transaction, so
nothing is lost) and alert entries written beside other changes (a post waiting for review). The job may run
twice: outbox ids and notice ids are derived from the window and the username, and a window is marked done
only after all its messages are written.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from chalicelib import bootstrap, log
from chalicelib.config import settings
from chalicelib.domain import staff_alerts as rules
from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.staff_actions import code_hash

LOG = log.get_logger("services.staff_alerts")
PURPOSE = "staff_alert"


def _user(principal):
    user = bootstrap.staff().get(principal.username)
    if user is None:
        raise NotFound("账号不存在")
    return user


def _accounts(principal) -> list[dict[str, str]]:
    """Where the staff member can bind: their community's account and the district's own (微市南)."""
    views = bootstrap.ports().directory(principal.district_id)
    mine = [a for a in views if principal.community_id and a.community_id == principal.community_id]
    district = [a for a in views if a.community_id is None]
    return [{"id": a.account_id, "name": a.name} for a in mine + district]


def my_alerts(principal) -> dict[str, Any]:
    user = _user(principal)
    accounts = _accounts(principal)
    names = {a.account_id: a.name for a in bootstrap.ports().directory(principal.district_id)}
    kinds = user.alert_kinds if user.alert_kinds is not None else list(rules.ALERT_KINDS)
    notices = bootstrap.posts().notices_of(principal.username, limit=20)
    return {"bound": bool(user.wechat_openid), "account_id": user.wechat_account_id,
            "account_name": names.get(user.wechat_account_id or "", user.wechat_account_id),
            "bound_at": user.wechat_bound_at.isoformat() if user.wechat_bound_at else None,
            "alert_kinds": kinds, "kinds": rules.ALERT_KINDS, "accounts": accounts,
            "window_minutes": int(rules.WINDOW.total_seconds() // 60), "notices": notices}


def new_code(principal) -> dict[str, Any]:
    """A one-time code (10 minutes) to send as `绑定 <code>` to one of the accounts."""
    _user(principal)
    code = "".join(secrets.choice(rules.CODE_ALPHABET) for _ in range(rules.CODE_LENGTH))
    now = bootstrap.now()
    expires_at = now + rules.CODE_LIFETIME
    bootstrap.staff().save_code(code_hash(code), principal.username, now, expires_at)
    return {"code": code, "message": f"绑定 {code}", "expires_at": expires_at.isoformat(),
            "accounts": _accounts(principal)}


def set_kinds(principal, kinds: Any) -> dict[str, Any]:
    try:
        chosen = rules.check_kinds(kinds)
    except ValueError as exc:
        raise BadRequest(str(exc), code="invalid_field") from None
    _user(principal)
    bootstrap.staff().set_alert_kinds(principal.username, chosen, bootstrap.now())
    return my_alerts(principal)


def unbind(principal) -> dict[str, Any]:
    bootstrap.staff().unbind(principal.username, bootstrap.now())
    return my_alerts(principal)


# ---- the job ---------------------------------------------------------------------------------------

def _request_events(starts: list[datetime], district_id: str) -> dict[datetime, list]:
    """The audit events of every community from the first window to the end of the last (one Query per
    community), by window."""
    directory, staff = bootstrap.directory(), bootstrap.staff()
    communities = {c.community_id: c for c in directory.communities(district_id)}
    keys = list(communities) + [f"district#{district_id}"]
    events = staff.request_events_between(keys, starts[0], starts[-1] + rules.WINDOW)
    out: dict[datetime, list] = {start: [] for start in starts}
    for e in events:
        if e.action in ("file", "assign", "escalate"):
            out.setdefault(rules.window_start(e.at), []).append(e)
    return out


def _alerts_of_window(events, entries, district_id: str) -> list[rules.Alert]:
    """The window's alerts: from the request audit trail and from the alert entries."""
    staff = bootstrap.staff()
    communities = {c.community_id: c for c in bootstrap.directory().communities(district_id)}
    found = staff.requests_by_number(e.number for e in events)
    out: list[rules.Alert] = []
    for e in events:
        request = found.get(e.number)
        community = communities.get(request.community_id) if request and request.community_id else None
        out += rules.alerts_of_event(e.number, request.community_id if request else None,
                                     community.subdistrict_id if community else None, e.action,
                                     json.loads(e.fields or "{}"), request.text if request else "")
    for entry in entries:
        if entry.entry_id == "~done":
            continue
        out.append(rules.Alert(entry.kind, entry.text, entry.ref, tuple((k, None) for k in entry.scope_keys or ()),
                               tuple(entry.usernames or ())))
    return out


def _recipients(alerts: list[rules.Alert]) -> dict[str, tuple[Any, dict[str, list[str]]]]:
    """username -> (user, lines by kind), each (kind, ref) once per user; deactivated accounts hear nothing."""
    staff = bootstrap.staff()
    by_scope: dict[str, list] = {}
    named = staff.names(u for a in alerts for u in a.usernames)
    out: dict[str, tuple[Any, dict[str, list[str]]]] = {}
    seen: set[tuple[str, str, str]] = set()
    for alert in alerts:
        users = [named[u] for u in alert.usernames if u in named]
        for key, roles in alert.scopes:
            if key not in by_scope:
                by_scope[key] = staff.in_scope(key)
            users += [u for u in by_scope[key] if roles is None or u.role in roles]
        for user in users:
            if user.deactivated_at is not None or (user.username, alert.kind, alert.ref or alert.line) in seen:
                continue
            seen.add((user.username, alert.kind, alert.ref or alert.line))
            out.setdefault(user.username, (user, {}))[1].setdefault(alert.kind, []).append(alert.line)
    return out


def digest(now: datetime | None = None, district_id: str | None = None) -> dict[str, int]:
    """Scheduled (every 5 minutes): every settled window not yet done becomes one digest per staff member."""
    now = now or bootstrap.now()
    district_id = district_id or settings().district_id
    staff, posts, outbox = bootstrap.staff(), bootstrap.posts(), bootstrap.outbox()
    totals = {"windows": 0, "staff": 0, "messages": 0}
    pending = []
    for start in rules.windows_due(now):
        entries = staff.alert_entries(rules.window_key(start))
        if not any(e.entry_id == "~done" for e in entries):
            pending.append((start, entries))
    events = _request_events([start for start, _ in pending], district_id) if pending else {}
    for start, entries in pending:
        key = rules.window_key(start)
        recipients = _recipients(_alerts_of_window(events.get(start, []), entries, district_id))
        queued: list[str] = []
        notices = []
        for username, (user, lines) in recipients.items():
            request_lines = {k: v for k, v in lines.items() if k != "review"}  # review: publishing's own notice
            if request_lines:
                notices.append(posts.notice(username, f"{key}#alert", "alert",
                                            rules.digest_text(user.display_name, request_lines, start), now))
            if not user.wechat_openid:
                continue
            chosen = {k: v for k, v in lines.items() if rules.wants(user.alert_kinds, k)}
            if not chosen:
                continue
            outbox_id = f"alert-{key}-{username}"
            if outbox.enqueue_once(outbox_id, user.wechat_account_id, user.wechat_openid, PURPOSE,
                                   rules.digest_text(user.display_name, chosen, start),
                                   json.dumps({"summary": rules.summary(chosen), "name": user.display_name,
                                               "count": sum(len(v) for v in chosen.values())},
                                              ensure_ascii=False), now):
                queued.append(outbox_id)
        if notices:
            posts.save_notices(notices)
        if queued:
            bootstrap.publish_outbox(queued)
        staff.mark_window_done(key, now, now + rules.LOOKBACK * 4)
        totals["windows"] += 1
        totals["staff"] += len(recipients)
        totals["messages"] += len(queued)
    log.event(LOG, "staff alerts", **totals)
    return totals
