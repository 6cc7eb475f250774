"""Scheduled and queue entry points. `JOBS` names each job for `make job NAME=…` and the template."""
