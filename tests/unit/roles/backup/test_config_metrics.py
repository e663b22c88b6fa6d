# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mvp_backup.config and .metrics: the configuration check and the textfile metrics."""

from __future__ import annotations

import json

import pytest
from conftest import make_config
from mvp_backup import metrics
from mvp_backup.common import JobError
from mvp_backup.config import Config, check_config, load_config


def test_check_config_accepts_both_modes(tmp_path):
    assert check_config(Config(make_config(tmp_path, mode="logical"))) == {"config": "ok"}
    assert check_config(Config(make_config(tmp_path))) == {"config": "ok"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["db"].update(mode="snapshot"), "db.mode must be physical or logical"),
        (lambda c: c["db"]["logical"].update(url_file=""), "db.logical.url_file is empty"),
        (lambda c: c["db"]["logical"].update(image=""), "db.logical.image is empty"),
        (lambda c: c["redis"].update(container=""), "redis.container is empty"),
        (lambda c: c["redis"].update(retention={"keep_within": "7x"}), "invalid retention policy"),
        (lambda c: c["db"].update(retention={"keep_every": 1}), "invalid retention policy retention"),
        (lambda c: c["offsite"].update(retention_files={"keep_most": 1}), "unknown option"),
        (lambda c: c.update(root="relative"), "absolute paths"),
        (lambda c: c["db"].update(container=" "), "db.container is empty"),
        (lambda c: c["verify"].update(image=""), "verify.image is empty"),
    ],
)
def test_check_config_refuses(tmp_path, change, message):
    data = make_config(tmp_path, mode="logical")
    change(data)
    with pytest.raises(JobError, match=message):
        check_config(Config(data))


def test_load_config_names_the_file(tmp_path):
    with pytest.raises(JobError, match=r"cannot read the configuration .*nothing\.json"):
        load_config(str(tmp_path / "nothing.json"))
    (tmp_path / "c.json").write_text(json.dumps({"root": "/x"}))
    with pytest.raises(JobError, match="'db'"):
        load_config(str(tmp_path / "c.json"))
    (tmp_path / "ok.json").write_text(json.dumps(make_config(tmp_path)))
    cfg = load_config(str(tmp_path / "ok.json"))
    assert cfg.db_dir == cfg.root / "db" and cfg.restore_dir == cfg.root / "restore"
    assert cfg.mode == "physical" and cfg.lock_timeout == 3600


def test_render_skips_missing_values_and_types_each_metric_once():
    text = metrics.render(
        [
            ("mvp_backup_last_status", {"kind": "full"}, 1),
            ("mvp_backup_size_bytes", {"kind": "full"}, None),
            ("mvp_backup_last_status", {"kind": "incremental"}, 0),
            ("mvp_backup_verify_last_status", {}, 1),
        ]
    )
    assert text.count("# TYPE mvp_backup_last_status gauge") == 1
    assert 'mvp_backup_last_status{kind="incremental"} 0' in text
    assert "mvp_backup_size_bytes" not in text
    assert "\nmvp_backup_verify_last_status 1\n" in text


def test_a_failure_keeps_the_last_success(tmp_path):
    cfg = Config(make_config(tmp_path))
    metrics.record_result(cfg, "full", True, 12.3456, 1000)
    first = json.loads(cfg.state_file.read_text())["full"]
    metrics.record_result(cfg, "full", False, 1.0, None)
    state = json.loads(cfg.state_file.read_text())["full"]
    assert state["last_status"] == 0 and state["last_success"] == first["last_success"] and state["size"] == 1000
    prom = (cfg.metrics_dir / "mvp_backup_full.prom").read_text()
    assert 'mvp_backup_last_status{kind="full"} 0' in prom
    assert f'mvp_backup_last_success_timestamp_seconds{{kind="full"}} {first["last_success"]}' in prom
    metrics.record_result(cfg, "verify", True, 3, None)
    assert "mvp_backup_verify_last_status 1" in (cfg.metrics_dir / "mvp_backup_verify.prom").read_text()
    assert sorted(p.name for p in cfg.metrics_dir.iterdir()) == ["mvp_backup_full.prom", "mvp_backup_verify.prom"]
