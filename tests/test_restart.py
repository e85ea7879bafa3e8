"""Nothing lost on restart in the embedded default: the Rasa server is stopped in the
middle of the ticket form and started again; the conversation goes on where it was and
the ticket is written with what was said before the restart (real servers, SQLite).
Each start runs one warm-up turn before the server accepts connections."""

import json
import sqlite3
import urllib.request
import uuid
from dataclasses import replace

from sqlalchemy import create_engine, select

from bot.db.schema import tickets
from bot.events import WARM_UP_SENDER
from bot.runner import Services
from bot.shell import free_port


def say(services, sender, text):
    req = urllib.request.Request(f"{services.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return "\n".join(m.get("text") or "" for m in json.loads(r.read()))


def warm_up_turns(tmp_path) -> int:
    """Greetings the Rasa server sent itself before accepting connections."""
    with sqlite3.connect(tmp_path / "var" / "conversations.db") as conn:
        return conn.execute("SELECT count(*) FROM events WHERE sender_id = ? AND "
                            "type_name = 'user'", (WARM_UP_SENDER,)).fetchone()[0]


def test_a_restart_in_the_middle_of_the_ticket_form_loses_nothing(settings, model_file,
                                                                   tmp_path):
    live = replace(settings, var=str(tmp_path / "var"), rasa_port=free_port(),
                   action_port=free_port(), api_port=free_port())
    services = Services(live, model_file, tmp_path / "run")
    sender = uuid.uuid4().hex
    services.start()
    try:
        assert warm_up_turns(tmp_path) == 1  # a real turn ran before the server was up
        first = say(services, sender, "龙游县的，我们厂过桥资金下个月到期，银行不续贷")
        assert "需要为您登记" in first
        assert "企业全称" in say(services, sender, "需要登记")
        assert "信用代码" in say(services, sender, "龙游县恒丰纸业有限公司")
        rasa = services.processes.pop("rasa-server")
        rasa.terminate()
        rasa.wait(30)
        services.start_rasa()  # a new Rasa process, the same conversation store
        assert warm_up_turns(tmp_path) == 2
        assert "怎么称呼" in say(services, sender, "跳过")
        say(services, sender, "王经理")
        summary = say(services, sender, "13905701234")
        assert "请核对以下信息" in summary and "龙游县恒丰纸业有限公司" in summary
        assert "已受理，工单号" in say(services, sender, "确认提交")
    finally:
        services.stop()
    engine = create_engine(services.database_url)  # the environment may name another
    with engine.connect() as conn:
        (row,) = conn.execute(select(tickets.c.enterprise_name).where(
            tickets.c.sender_id == f"rest:{sender}")).all()
    assert row.enterprise_name == "龙游县恒丰纸业有限公司"
    assert (tmp_path / "var" / "conversations.db").stat().st_size > 0
