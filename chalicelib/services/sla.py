"""超时上报 (the SLA sweep): overdue 便民纸条 go up — first to the community's director, then, half the expected
time later, to the sub-district.

It reads only the sparse `by_escalation` index (`escalate_at <= now`); each escalation is planned by the
domain (`plan_escalation`) and written through the unit of work, conditional on the level it saw, so two
sweeps at once, or a re-run, escalate once.
"""
from __future__ import annotations

import logging
from datetime import datetime

from chalicelib import bootstrap, log
from chalicelib.config import settings
from chalicelib.domain.effects import Transition
from chalicelib.domain.errors import StaleState
from chalicelib.domain.messages import NO_REPLY
from chalicelib.domain.requests import DEFAULT_POLICY, plan_escalation

LOG = log.get_logger("services.sla")


def sweep(now: datetime | None = None) -> dict:
    now = now or bootstrap.now()
    district = settings().district_id
    escalated = skipped = failed = 0
    ports, repo, unit_of_work = bootstrap.ports(), bootstrap.requests(), bootstrap.unit_of_work()
    for record in repo.to_escalate(district, now):
        request = repo.as_view(record)
        hours = ports.policy(district, request.community_id).hours.get(request.category, DEFAULT_POLICY.hours["other"])
        plan = plan_escalation(request, now, hours)
        if plan is None:
            continue
        try:
            unit_of_work.commit(None, NO_REPLY, (Transition(plan),), now)
            escalated += 1
            log.event(LOG, "request escalated", number=request.number, level=plan.set_fields["escalation"])
        except StaleState:
            skipped += 1  # another sweep got there first, or the request moved meanwhile
        except bootstrap.storage_errors() as exc:
            failed += 1  # throttling …: the next sweep (in 15 minutes) tries again
            log.event(LOG, "escalation failed", logging.ERROR, number=request.number, error=str(exc))
    return {"escalated": escalated, "skipped": skipped, **({"failed": failed} if failed else {})}
