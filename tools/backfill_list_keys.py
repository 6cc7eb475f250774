"""One-off migration: give requests filed before the list indexes existed their composite keys.

    python -m tools.backfill_list_keys        # STAGE, TABLE_REQUESTS / AWS_ENDPOINT_URL as for the stage

A Scan — run once by an operator after deploying, never on a request path. Idempotent: a request that
already carries the keys is written with the same values.
"""
from __future__ import annotations

import sys

from chalicelib.domain.requests import OPEN_STATES
from chalicelib.store.requests import HelpRequest, list_keys


def main() -> int:
    done = 0
    for r in HelpRequest.scan():
        keys = list_keys(r.community_key, r.state, r.team_id, r.department_id, r.category)
        due = r.community_key if r.state in OPEN_STATES and r.due_at else None
        actions = [getattr(HelpRequest, k).set(v) if v else getattr(HelpRequest, k).remove() for k, v in keys.items()]
        actions.append(HelpRequest.due_community.set(due) if due else HelpRequest.due_community.remove())
        r.update(actions=actions)
        done += 1
    print(f"{done} requests carry the list keys")
    return 0


if __name__ == "__main__":
    sys.exit(main())
