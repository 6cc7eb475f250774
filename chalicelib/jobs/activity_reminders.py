"""`activity-reminders`: at 10:00 Shanghai, everyone signed up for an activity of tomorrow gets a
reminder through the outbox (once: each reminder has its own delivery key)."""
from __future__ import annotations

from chalicelib.config import settings
from chalicelib.services import activities


def run() -> dict[str, int]:
    return activities.remind_tomorrow(settings().district_id)
