"""Two Rasa replicas behind nginx in production mode (PostgreSQL, Redis): one user's
conversation served by both replicas alternately stays consistent, and survives the
loss of a replica."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import say_to
from sqlalchemy import create_engine, text

from bot.channels.rest_protocol import RETRY_TEXT
from bot.cluster import Cluster
from bot.settings import SettingsError


def test_the_cluster_needs_production_mode(settings, model_file, tmp_path):
    with pytest.raises(SettingsError, match="GOVBOT_MODE=production"):
        Cluster(settings, model_file, tmp_path)


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.rabbitmq
@pytest.mark.nginx
def test_two_replicas_share_one_conversation(two_replicas, scratch_pg, tmp_path):
    cluster = two_replicas
    cluster.start()
    sender = uuid.uuid4().hex
    try:
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
        # one replica goes away: the proxy sends the conversation to the other
        rasa = cluster.members[0].processes["rasa-server"]
        rasa.kill()
        rasa.wait(10)
        assert "手机号码" in say_to(cluster.url, sender, "王经理")
        summary = say_to(cluster.url, sender, "13905701234")
        assert "请核对以下信息" in summary and "企业：龙游县恒丰纸业有限公司" in summary
        assert "已受理，工单号：QZ-" in say_to(cluster.url, sender, "/affirm")
    finally:
        cluster.stop()
    engine = create_engine(scratch_pg, future=True)
    with engine.connect() as conn:
        kinds = [r[0] for r in conn.execute(text(
            "SELECT type_name FROM events WHERE sender_id = :s ORDER BY id"), {"s": rushed})]
    engine.dispose()
    turns = [k for k in kinds if k in ("user", "bot")]
    assert turns == ["user", "bot"] * len(served)  # each answered before the next is read
    log = (tmp_path / "cluster" / "nginx" / "nginx-access.log").read_text()
    served = {line.split()[-2] for line in log.splitlines() if "/webhooks/" in line}
    port = cluster.settings.rasa_port
    assert {f"127.0.0.1:{port}", f"127.0.0.1:{port + 1}"} <= {
        s.split(",")[-1].strip() for s in served}
