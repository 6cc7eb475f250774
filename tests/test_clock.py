"""The one clock: fixed in tests, set and moved on the laptop stack, ignored on deployed stages."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from chalicelib import clock


def test_a_fixed_clock_is_what_every_now_reads():
    moment = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    clock.set_clock(moment)
    assert clock.now() == moment
    clock.reset()
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=2)


def test_local_clock_runs_on_from_the_set_moment(monkeypatch):
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.delenv("LOCAL_CLOCK_FILE", raising=False)
    monkeypatch.setenv("LOCAL_CLOCK", "2026-12-01T09:30+08:00")
    first = clock.now()
    assert abs(first - datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)) < timedelta(seconds=2)
    assert clock.now() >= first  # it runs on


def test_the_shared_file_moves_every_process_and_a_deployed_stage_ignores_it(monkeypatch, tmp_path):
    path = tmp_path / "clock.json"
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("LOCAL_CLOCK_FILE", str(path))
    frozen = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    clock.write_local_clock_file(str(path), frozen_at=frozen)
    assert clock.now() == frozen
    clock.write_local_clock_file(str(path), offset_seconds=3600)
    os.utime(path, ns=(1, 2))  # a changed file is read again even within one mtime tick
    assert timedelta(minutes=59) < clock.now() - datetime.now(timezone.utc) < timedelta(minutes=61)
    monkeypatch.setenv("STAGE", "prod")
    assert abs(clock.now() - datetime.now(timezone.utc)) < timedelta(seconds=2)


def test_a_naive_local_clock_is_shanghai_time():
    assert clock.parse_local_clock("2026-12-01T09:30") == datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
