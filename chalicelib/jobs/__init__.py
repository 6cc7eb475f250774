"""Scheduled and queue entry points, and the table of jobs.

`JOBS` is data: the name `make job NAME=…` takes, the Lambda function that runs it, its EventBridge
schedule (cron in UTC), and the queues it fills (which `make job` drains through their handlers).
"""
from __future__ import annotations

from chalicelib.domain.records import record


@record
class Job:
    name: str
    function: str
    schedule: str  # EventBridge cron, UTC
    fills: tuple[str, ...] = ()


JOBS = {job.name: job for job in (
    # 08:30 Asia/Shanghai: WeChat's datacube has the previous day after 08:00.
    Job("daily-stats", "daily_stats", "cron(30 0 * * ? *)", fills=("fanout", "stats")),
    # Every 15 minutes: overdue 便民纸条 go to the director, then to the sub-district.
    Job("sla-sweep", "sla_sweep", "cron(0/15 * * * ? *)"),
    # Every 10 minutes: outbox items that never reached the queue are handed to it again.
    Job("outbox-redrive", "outbox_redrive", "cron(0/10 * * * ? *)", fills=("outbox",)),
    # Every half hour: each account's approved post goes out once at its time (08:00 Asia/Shanghai unless the
    # account or the post chose another).
    Job("daily-post", "daily_post", "cron(0/30 * * * ? *)", fills=("fanout", "posts")),
    # 17:00 Asia/Shanghai: communities with no approved post for tomorrow are told.
    Job("post-reminder", "post_reminder", "cron(0 9 * * ? *)"),
    # 10:00 Asia/Shanghai: everyone signed up for an activity of tomorrow is reminded (through the outbox).
    Job("activity-reminders", "activity_reminders", "cron(0 2 * * ? *)", fills=("outbox",)),
    # 04:00 Asia/Shanghai: every account's custom menu, pushed only where it differs from WeChat's.
    Job("push-menus", "push_menus", "cron(0 20 * * ? *)"),
    # Every 5 minutes: each settled 10-minute window of staff alerts becomes one digest per staff member.
    Job("staff-alerts", "staff_alerts", "cron(0/5 * * * ? *)", fills=("outbox",)),
    # The 1st of the month, 10:00 Asia/Shanghai: last month's bulletin (月通报), a draft for the district.
    Job("monthly-bulletin", "monthly_bulletin", "cron(0 2 1 * ? *)", fills=("outbox",)),
)}

# Queue -> the Lambda function that consumes it.
QUEUE_HANDLERS = {"stats": "stats_worker", "outbox": "outbox_worker", "inbound": "inbound_worker",
                  "posts": "post_worker", "fanout": "fanout_worker"}
