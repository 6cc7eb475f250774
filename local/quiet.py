"""Logging of the laptop's own processes: libraries' INFO lines that say nothing on the laptop — botocore's
"Found credentials in environment variables." (once per client; the credentials are the stack's demo
values) and "Found endpoint for … via: environment_global.", and PynamoDB's "Using Default settings value"
— are silenced. The platform's own log lines are untouched."""
from __future__ import annotations

import logging

QUIET = ("botocore.credentials", "botocore.configprovider", "pynamodb.settings")


def quiet_laptop_logs() -> None:
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
