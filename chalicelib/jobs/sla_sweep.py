"""`sla-sweep` (every 15 minutes): overdue 便民纸条 go up — first to the community's director, then,
half the expected time later, to the sub-district.

It reads only the sparse `by_escalation` index (`escalate_at <= now`), and each escalation is one
transaction conditional on the level it saw, so two sweeps at once, or a re-run, escalate once.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from chalicelib import log
from chalicelib.config import settings
from chalicelib import clock
from chalicelib.domain.requests import DEFAULT_POLICY, ESCALATION_LEVELS

LOG = log.get_logger("jobs.sla_sweep")


def sweep(now: datetime | None = None) -> dict:
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    from chalicelib.store.ports import DynamoPorts
    from chalicelib.store.request_writes import event_id
    from chalicelib.store.requests import HelpRequest, RequestEvent
    from chalicelib.store.unit_of_work import _connection

    now = now or clock.now()
    district = settings().district_id
    escalated = skipped = failed = 0
    ports = DynamoPorts()
    for r in HelpRequest.by_escalation.query(district, HelpRequest.escalate_at <= now):
        level = int(r.escalation or 0)
        if level >= len(ESCALATION_LEVELS):
            continue
        to = ESCALATION_LEVELS[level]
        hours = ports.policy(district, r.community_id).hours.get(r.category, DEFAULT_POLICY.hours["other"])
        last = level + 1 >= len(ESCALATION_LEVELS)
        actions = [HelpRequest.escalation.set(level + 1), HelpRequest.updated_at.set(now)]
        actions += ([HelpRequest.sla_escalate.remove(), HelpRequest.escalate_at.remove()] if last
                    else [HelpRequest.escalate_at.set(now + timedelta(hours=max(1, hours / 2)))])
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(HelpRequest(r.number), actions=actions,
                          condition=(HelpRequest.escalation == level) & HelpRequest.sla_escalate.exists())
                tx.save(RequestEvent(r.number, event_id(now), community_key=r.community_key, action="escalate",
                                     actor_kind="system",
                                     actor_id="sla-sweep", from_state=r.state, to_state=r.state,
                                     note=f"超时未办结，已上报{'社区主任' if to == 'director' else '街道'}",
                                     fields=json.dumps({"escalated_to": to, "level": level + 1}), at=now),
                        condition=RequestEvent.event_id.does_not_exist())
            escalated += 1
            log.event(LOG, "request escalated", number=r.number, to=to)
        except TransactWriteError as exc:
            codes = {reason.code for reason in (exc.cancellation_reasons or []) if reason is not None}
            if codes <= {"ConditionalCheckFailed", "None"}:
                skipped += 1  # another sweep got there first, or the request closed meanwhile
                continue
            failed += 1  # throttling, a conflict …: the next sweep (in 15 minutes) tries again
            log.event(LOG, "escalation failed", logging.ERROR, number=r.number, error=str(exc), codes=sorted(codes))
    return {"escalated": escalated, "skipped": skipped, **({"failed": failed} if failed else {})}
