"""``govbot cluster --replicas 2`` as users run it, in production mode (PostgreSQL, Redis,
RabbitMQ, nginx): one user's conversation served by both replicas alternately stays
consistent; a replica killed with ``kill -9`` is restarted by the supervisor while the
other serves, and the readiness answer names every member; SIGTERM stops them all."""

import json
import os
import signal
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import eventually_sync, say_to
from sqlalchemy import create_engine, text

from bot.channels.rest_protocol import RETRY_TEXT
from bot.cluster import Cluster
from bot.settings import SettingsError


def test_the_cluster_needs_production_mode(settings, model_file, tmp_path):
    with pytest.raises(SettingsError, match="GOVBOT_MODE=production"):
        Cluster(settings, model_file, tmp_path)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.nginx
def test_two_replicas_share_one_conversation_and_survive_a_killed_one(cluster_command,
                                                                      scratch_pg):
    cluster = cluster_command
    cluster.start()
    sender = uuid.uuid4().hex
    first = say_to(cluster.url, sender, "我们厂的过桥资金下个月到期，银行说不续贷了")
    assert "需要为您登记" in first
    assert "企业全称" in say_to(cluster.url, sender, "/affirm")
    assert "统一社会信用代码" in say_to(cluster.url, sender, "龙游县恒丰纸业有限公司")
    # another user sends six messages at once: the Redis lock serialises them
    rushed = uuid.uuid4().hex
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda m: say_to(cluster.url, rushed, m),
                                ["你好", "谢谢", "帮助", "你好", "谢谢", "帮助"]))
    served = [a for a in answers if a and RETRY_TEXT not in a]
    assert len(served) == 6, answers
    assert "哪个县" in say_to(cluster.url, sender, "跳过")
    assert "联系人" in say_to(cluster.url, sender, "龙游县")

    # one replica dies: the other serves the conversation, the supervisor restarts it
    killed = cluster.pid("replica 0 rasa-server")
    os.kill(killed, signal.SIGKILL)
    died = time.monotonic()
    # (a message nginx hands to it in the milliseconds before it is gone is reset and
    # answered 「请稍后重试」: the requests a dying member was handling; wait them out)
    assert eventually_sync(lambda: cluster.members()["replica 0 rasa-server"]["state"]
                           != "up", timeout=10)
    assert "手机号码" in say_to(cluster.url, sender, "王经理")
    summary = say_to(cluster.url, sender, "13905701234")
    assert "请核对以下信息" in summary and "企业：龙游县恒丰纸业有限公司" in summary
    assert "已受理，工单号：QZ-" in say_to(cluster.url, sender, "/affirm")
    back = eventually_sync(lambda: cluster.members()["replica 0 rasa-server"]["state"] == "up"
                           and cluster.members()["replica 0 rasa-server"]["restarts"] == 1,
                           timeout=240, interval=0.5)
    assert back, cluster.members()
    print(f"replica 0 served again {time.monotonic() - died:.1f} s after kill -9")
    assert cluster.pid("replica 0 rasa-server") != killed
    assert cluster.process.poll() is None  # the group never stopped
    with urllib.request.urlopen(f"{cluster.url}/api/v1/ready", timeout=10) as r:
        ready = json.load(r)
    assert ready["ready"] and set(ready["members"]) == {
        "web", "event-consumer", "nginx", *(f"replica {i} {p}" for i in (0, 1)
                                          for p in ("action-server", "rasa-server"))}
    assert ready["members"]["replica 0 rasa-server"]["restarts"] == 1
    with urllib.request.urlopen(f"{cluster.url}/api/v1/metrics", timeout=10) as r:
        metrics = r.read().decode()
    assert 'govbot_member_restarts_total{member="replica 0 rasa-server"} 1.0' in metrics
    assert 'govbot_member_up{member="replica 1 rasa-server"} 1.0' in metrics
    # the restarted replica serves: both answer again
    assert "您好" in say_to(f"http://127.0.0.1:{cluster.env['GOVBOT_RASA_PORT']}",
                           uuid.uuid4().hex, "你好")

    # nginx itself dies: nothing is left holding the port, it is back at once
    os.kill(cluster.pid("nginx"), signal.SIGKILL)
    assert eventually_sync(lambda: cluster.members()["nginx"]["state"] == "up"
                           and cluster.members()["nginx"]["restarts"] == 1, timeout=30)
    assert "您好" in say_to(cluster.url, uuid.uuid4().hex, "你好")

    pids = [m["pid"] for m in cluster.members().values()]
    assert cluster.stop() == 0  # SIGTERM: a deliberate stop ends the group
    assert not [p for p in pids if alive(p)]

    engine = create_engine(scratch_pg, future=True)
    with engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text(
            "SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": rushed})]
    engine.dispose()
    turns = [k for k in kinds if k in ("user", "bot")]
    assert turns == ["user", "bot"] * len(served)  # each answered before the next is read
    log = (cluster.var / "cluster" / "nginx" / "nginx-access.log").read_text()
    upstreams = {line.split()[-2] for line in log.splitlines() if "/webhooks/" in line}
    port = int(cluster.env["GOVBOT_RASA_PORT"])
    assert {f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"} <= {
        s.split(",")[-1].strip() for s in upstreams}
