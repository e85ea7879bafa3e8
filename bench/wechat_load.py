"""WeChat channel load benchmark (not a test): simulated users against one Rasa server.

    uv run python bench/wechat_load.py [--users 200] [--seconds 60]

Starts the department API, the action server and one Rasa server with the WeChat
channel (plaintext mode) on 127.0.0.1, and a local stand-in for the platform's
push API. Each simulated user sends signed callbacks — a realistic mix of
demands, policy questions, greetings and ticket questions — waits for the HTTP
answer, thinks 2–6 s, and sends the next; 5 % of messages are also sent a second
time at once (a platform retry). After the run the script waits for late replies
to be pushed. It checks that every message was answered exactly once (passive
reply or push) and records throughput and the acknowledgement time the platform
sees (p50/p95/p99/p99.9/max; the platform gives up after 5 s). Bounded and
self-stopping; writes bench/results/wechat_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
import yaml  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.channels.wxprotocol import signature  # noqa: E402
from bot.logs import quiet_rasa_environment  # noqa: E402
from bot.runner import Services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.shell import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "loadtesttoken"
MESSAGES = ["你好", "我们厂的过桥资金下个月到期，银行说不续贷了", "研发费用加计扣除比例是多少",
            "高新技术企业认定要满足哪些条件", "招不到电焊工，订单要延期了", "我的工单处理到哪了",
            "谢谢", "出口退税三个月还没到账", "帮助", "小微企业融资担保费率能降吗",
            "客户拖欠我们八十多万货款一直不给", "不用了"]


class Platform(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.port, self.ready = free_port(), threading.Event()
        self.pushed: Counter[str] = Counter()

    def run(self) -> None:
        loop = asyncio.new_event_loop()

        async def token(request: web.Request) -> web.Response:
            return web.json_response({"access_token": "T", "expires_in": 7200})

        async def send(request: web.Request) -> web.Response:
            self.pushed[(await request.json())["touser"]] += 1
            return web.json_response({"errcode": 0})

        app = web.Application()
        app.router.add_get("/cgi-bin/token", token)
        app.router.add_post("/cgi-bin/message/custom/send", send)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self.ready.set()
        loop.run_forever()


def callback(user: str, text: str, msg_id: str) -> tuple[dict, bytes]:
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[{user}]]>"
           f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
           f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    return ({"timestamp": ts, "nonce": nonce, "openid": user,
             "signature": signature(TOKEN, ts, nonce)}, xml.encode())


async def user_loop(url: str, user: str, until: float, stats: dict, rnd: random.Random) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        while time.monotonic() < until:
            msg_id = str(uuid.uuid4().int)[:18]
            query, body = callback(user, rnd.choice(MESSAGES), msg_id)
            sends = [session.post(url, params=query, data=body)]
            if rnd.random() < 0.05:  # the platform retries this one
                sends.append(session.post(url, params=query, data=body))
            results = await asyncio.gather(*(_answer(s) for s in sends),
                                           return_exceptions=True)
            stats["sent"] += 1
            stats["retries"] += len(sends) - 1
            for status, text, seconds in [r for r in results if not isinstance(r, Exception)]:
                stats["ack_seconds"].append(seconds)
                if status != 200:
                    stats["errors"] += 1
                elif text == "success":
                    stats["acks"][user] += 1
                else:
                    stats["passive"][user] += 1
            stats["errors"] += sum(isinstance(r, Exception) for r in results)
            await asyncio.sleep(rnd.uniform(2, 6))


async def _answer(request) -> tuple[int, str, float]:  # noqa: ANN001 - aiohttp request
    t0 = time.monotonic()
    async with request as response:
        return response.status, await response.text(), time.monotonic() - t0


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(url: str, users: int, seconds: int, platform: Platform) -> dict:
    stats = {"sent": 0, "retries": 0, "errors": 0, "ack_seconds": [], "acks": Counter(),
             "passive": Counter()}
    rnd = random.Random(5)
    until = time.monotonic() + seconds
    started = time.monotonic()
    names = [f"oBench{i:04d}{uuid.uuid4().hex[:6]}" for i in range(users)]
    await asyncio.gather(*(user_loop(url, n, until, stats, random.Random(rnd.random()))
                           for n in names))
    elapsed = time.monotonic() - started
    # late replies: wait (bounded) until every acknowledged-only message was pushed
    deadline = time.monotonic() + 120
    expected_pushes = sum(stats["acks"].values()) - stats["retries"]
    while time.monotonic() < deadline and sum(platform.pushed.values()) < expected_pushes:
        await asyncio.sleep(1)
    answered = {n: stats["passive"][n] + platform.pushed[n] for n in names}
    # every message: one answer (passive or pushed); a retry: none
    total_answers = sum(answered.values())
    ack = stats["ack_seconds"]
    return {
        "users": users, "seconds": seconds, "elapsed_seconds": round(elapsed, 1),
        "messages": stats["sent"], "retries_sent": stats["retries"],
        "messages_per_second": round(stats["sent"] / elapsed, 1),
        "passive_replies": sum(stats["passive"].values()),
        "pushed_replies": sum(platform.pushed.values()),
        "answers_total": total_answers, "http_errors": stats["errors"],
        "answered_exactly_once": total_answers == stats["sent"] and stats["errors"] == 0,
        "ack_p50_s": round(statistics.median(ack), 3), "ack_p95_s": round(quantile(ack, .95), 3),
        "ack_p99_s": round(quantile(ack, .99), 3), "ack_p999_s": round(quantile(ack, .999), 3),
        "ack_max_s": round(max(ack), 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    quiet_rasa_environment()
    platform = Platform()
    platform.start()
    platform.ready.wait(10)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        credentials = run / "credentials.yml"
        credentials.write_text(yaml.safe_dump({"bot.channels.wechat.WeChatInput": {
            "token": TOKEN, "app_id": "wxbench", "app_secret": "s",
            "api_base": f"http://127.0.0.1:{platform.port}"}}), encoding="utf-8")
        settings = replace(load_settings({"GOVBOT_HOME": str(ROOT)}), rasa_port=free_port(),
                           action_port=free_port(), api_port=free_port(), var=str(run / "var"))
        services = Services(settings, settings.model_file, run / "logs", credentials=credentials)
        services.start()
        try:
            url = f"{services.rasa_url}/webhooks/wechat/webhook"
            result = asyncio.run(load(url, args.users, args.seconds, platform))
        finally:
            services.stop()
    print(json.dumps(result, indent=1))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "wechat_load.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
