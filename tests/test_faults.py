"""Faults under load through ``govbot cluster`` itself: ``bench/faults.py`` with a few
simulated enterprises kills each kind of member (Rasa replica, action server, web
application, event consumer), drains a replica with SIGTERM, restarts PostgreSQL and
Redis and stops RabbitMQ for 20 s; afterwards the targets of issue #20 are checked on its
results. About five minutes; needs root (pg_ctlcluster, rabbitmqctl), as in CI."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import service_missing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.nginx]

ROOT = Path(__file__).resolve().parent.parent


def test_faults_during_load_lose_nothing(model_file, tmp_path):
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or not shutil.which("rabbitmqctl"):
        service_missing("fault injection needs root and the local PostgreSQL / RabbitMQ tools "
                        "(pg_ctlcluster, rabbitmqctl), as in CI")
    out = tmp_path / "faults.json"
    try:
        run = subprocess.run([sys.executable, str(ROOT / "bench" / "faults.py"), "--users", "8",
                              "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                             timeout=1500)
    finally:  # the services are left running whatever happened
        subprocess.run(["rabbitmqctl", "start_app"], timeout=60, capture_output=True)
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], timeout=60,
                       capture_output=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    print(run.stdout)

    faults = {f["fault"]: f for f in result["faults"]}
    assert len(faults) == 8
    for f in faults.values():
        # nginx stays: no message fails at connection level or with an error status; a
        # message a dying member was handling is told 「请稍后重试」 and sent again
        assert (f["connection"], f["error"]) == (0, 0), f
        assert f["serves_again_s"] is not None, f  # every member and service came back
        assert f["answered"] > 0, f  # the others kept serving meanwhile
    assert all(m["state"] == "up" for m in result["members_after"].values())
    assert result["members_after"]["replica 0 rasa-server"]["restarts"] == 1
    assert result["cluster_exit_code"] == 0  # SIGTERM stopped the whole group

    t = result["tickets"]
    assert t["told"] >= 5  # the load did its work through the faults
    assert t["told_and_stored_once"] == t["told"]  # every number told is stored, once
    assert t["duplicated"] == 0 and t["stored_untold"] == 0

    s = result["statistics"]  # events kept while RabbitMQ was away reached the statistics
    assert s["ratio"] >= 0.99 and s["events_left_in_spool"] == 0, s
