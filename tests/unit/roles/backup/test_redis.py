# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.redis: the BGSAVE wait and the password kept out of argv."""

from __future__ import annotations

import json
import os

import pytest
from conftest import make_config
from mvp_backup import redis
from mvp_backup.common import JobError
from mvp_backup.config import Config


def config(tmp_path):
    return make_config(tmp_path, mode="logical")


class FakeCli:
    """Answers like redis-cli: LASTSAVE moves after a few polls; INFO persistence reports the save."""

    def __init__(self, polls_until_saved: int = 3, status: str = "ok", now: int = 1_800_000_000) -> None:
        self.polls = polls_until_saved
        self.status = status
        self.now = now
        self.commands: list = []

    def __call__(self, *args) -> str:
        self.commands.append(args)
        if args[0] == "LASTSAVE":
            saved = sum(1 for c in self.commands if c[0] == "LASTSAVE") > self.polls
            return str(self.now + 5 if saved else self.now - 100)
        if args[0] == "TIME":
            return f"{self.now}\n123"
        if args[0] == "BGSAVE":
            return "Background saving started"
        raise AssertionError(args)

    def info(self, section: str) -> dict:
        assert section == "persistence"
        saving = sum(1 for c in self.commands if c[0] == "LASTSAVE") <= self.polls
        return {"rdb_bgsave_in_progress": "1" if saving else "0", "rdb_last_bgsave_status": self.status}


def test_bgsave_waits_for_lastsave_to_change(monkeypatch):
    monkeypatch.setattr(redis.time, "sleep", lambda _s: None)
    cli = FakeCli(polls_until_saved=3)
    assert redis.bgsave(cli, timeout=30) == cli.now + 5
    assert ("BGSAVE", "SCHEDULE") in cli.commands
    assert sum(1 for c in cli.commands if c[0] == "LASTSAVE") >= 4


def test_bgsave_reports_a_failed_save(monkeypatch):
    monkeypatch.setattr(redis.time, "sleep", lambda _s: None)
    with pytest.raises(JobError, match="rdb_last_bgsave_status=err"):
        redis.bgsave(FakeCli(polls_until_saved=1, status="err"), timeout=30)


def test_bgsave_times_out(monkeypatch):
    monkeypatch.setattr(redis.time, "sleep", lambda _s: None)
    with pytest.raises(JobError, match="did not finish within 0s"):
        redis.bgsave(FakeCli(polls_until_saved=10**6), timeout=0)


def test_redis_cli_passes_the_password_by_environment_only(tmp_path, fake_docker):
    cfg = Config(config(tmp_path))
    cli = redis.RedisCli(cfg)
    cli("PING")
    call = json.loads(fake_docker.read_text().splitlines()[-1])
    assert "rd-unit-password-0123456789" not in " ".join(call["argv"])
    assert call["argv"][:4] == ["exec", "-e", "REDISCLI_AUTH", "mvp-redis-redis-1"]
    assert call["env"]["REDISCLI_AUTH"] == "rd-unit-password-0123456789"
    assert os.environ.get("REDISCLI_AUTH") is None
