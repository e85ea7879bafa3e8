"""How fast is the first turn of each kind after the assistant reports ready?

    uv run python bench/first_answer.py

Starts the assistant as ``govbot run`` does (web application, actions, Rasa server on
free loopback ports, a scratch ticket database), waits until it is ready, then times,
through the REST channel, the first turn of every kind a user meets — a greeting, a
policy question (and another, a follow-up, the same from another user), one in
Traditional characters, a demand and every step of the ticket form to a confirmed
ticket, a status question, a request for a person, thanks — each the first of its
kind since the start. Target (issue #17): every one ≤ 300 ms. Writes
bench/results/first_answer.json.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from bot.runner import Services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.shell import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (("first question", "a", "研发费用加计扣除比例是多少"),
             ("another question", "a", "小型微利企业所得税怎么优惠"),
             ("a follow-up", "a", "那个体户呢"),
             ("the first question, another user", "b", "研发费用加计扣除比例是多少"),
             ("Traditional characters", "b", "請問高新技術企業資格有效期是幾年？"),
             ("greeting", "c", "你好"),
             ("a demand", "c", "龙游县的，我们厂过桥资金下个月到期了，银行说不续贷"),
             ("form: yes", "c", "需要登记"),
             ("form: company", "c", "龙游县恒丰纸业有限公司"),
             ("form: skip the credit code", "c", "跳过"),
             ("form: contact", "c", "刘芳"),
             ("form: mobile", "c", "13905701234"),
             ("form: confirm", "c", "确认提交"),
             ("status question", "c", "我的工单办得怎么样了"),
             ("thanks", "c", "谢谢"),
             ("a person, please", "d", "转人工"))


def main() -> int:
    settings = load_settings()
    live = replace(settings, rasa_port=free_port(), action_port=free_port(),
                   api_port=free_port())
    model = sorted(settings.models_dir.glob("*.tar.gz"))[-1]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["GOVBOT_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'tickets.db'}"
        services = Services(live, model, Path(tmp))
        started = time.perf_counter()
        services.start()
        ready = time.perf_counter() - started
        senders = {who: uuid.uuid4().hex for _, who, _ in QUESTIONS}
        rows = []
        try:
            for label, who, text in QUESTIONS:
                t0 = time.perf_counter()
                r = requests.post(f"{services.rasa_url}/webhooks/rest/webhook", timeout=60,
                                  json={"sender": senders[who], "message": text})
                ms = round(1000 * (time.perf_counter() - t0), 1)
                reply = " ".join(m.get("text", "") for m in r.json())
                rows.append({"turn": label, "text": text, "ms": ms, "reply": reply[:80]})
                print(f"{label:34s} {ms:8.1f} ms  {reply[:50]}")
        finally:
            services.stop()
    out = {"seconds_to_ready": round(ready, 1),
           "slowest_ms": max(r["ms"] for r in rows), "turns": rows}
    print(f"ready after {ready:.1f} s")
    (ROOT / "bench" / "results" / "first_answer.json").write_text(
        json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
