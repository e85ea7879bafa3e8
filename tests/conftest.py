"""Shared fixtures: the project settings, a current trained model, a parser, live servers,
the external services some tests need (PostgreSQL, Redis, RabbitMQ, Chromium, nginx), a
fake WeChat platform, and helpers that wait for a condition instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import re
import shutil
import socket
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import async_playwright
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.api.app import create_app
from bot.cluster import ClusterProcess
from bot.db import scratch
from bot.kb.index import KnowledgeBase
from bot.logs import quiet_rasa_environment
from bot.settings import RasaApi, Settings, load_settings
from bot.shell import consecutive_ports, free_port
from bot.tickets.factory import build_backend
from bot.tickets.notify import RasaNotifier
from bot.web.app import add_web
from bot.web.users import UserError, UserStore

ROOT = Path(__file__).resolve().parent.parent

#: a PostgreSQL database to connect to while creating and dropping scratch databases
PG_URL = os.environ.get("GOVBOT_TEST_PG_URL", "postgresql+psycopg2://127.0.0.1:5432/test")
#: Redis and RabbitMQ of this machine, as the production-mode tests use them
REDIS_URL = "redis://127.0.0.1:6379/13"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
CHROMIUM = "/usr/bin/chromium"


# -- external services: a test marked with one is skipped when it is missing, failed in CI --
#: CI sets CI=true: there a missing service fails the test, CI must never silently skip
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True)
class Service:
    name: str
    how: str  # how to get it running
    host: str = ""  # a server to connect to …
    port: int = 0
    program: str = ""  # … or a program to find

    @property
    def where(self) -> str:
        return self.program or f"{self.host}:{self.port}"


_pg = make_url(PG_URL)
SERVICES = {  # by marker
    "postgres": Service("PostgreSQL", "start it: pg_ctlcluster 15 main start (as .ci/run "
                        "does), or point GOVBOT_TEST_PG_URL at another server",
                        _pg.host or "127.0.0.1", _pg.port or 5432),
    "redis": Service("Redis", "start it: redis-server --daemonize yes --bind 127.0.0.1",
                     "127.0.0.1", 6379),
    "rabbitmq": Service("RabbitMQ", "start it: service rabbitmq-server start (or rabbitmqctl "
                        "start_app)", "127.0.0.1", 5672),
    "browser": Service("Chromium", "install it: make system (Debian chromium, fonts-noto-cjk)",
                       program=CHROMIUM),
    "nginx": Service("nginx", "install it: make system (Debian nginx-light)", program="nginx"),
}


def pytest_configure(config: pytest.Config) -> None:
    for marker, service in SERVICES.items():
        config.addinivalue_line("markers", f"{marker}: needs {service.name} "
                                f"({service.where}); skipped when missing, failed if CI=true")


@functools.cache
def service_available(marker: str) -> bool:
    """Whether the service answers (a TCP connection) or is installed (a program); asked
    once per test run."""
    service = SERVICES[marker]
    if service.program:
        return shutil.which(service.program) is not None
    try:
        with socket.create_connection((service.host, service.port), timeout=1.0):
            return True
    except OSError:
        return False


def service_missing(reason: str) -> NoReturn:
    """Skip the running test for ``reason``; with CI=true fail it instead."""
    if IN_CI:
        pytest.fail(f"{reason} [CI=true: a missing service fails the test]", pytrace=False)
    pytest.skip(reason)


def require_service(marker: str) -> None:
    if not service_available(marker):
        service = SERVICES[marker]
        service_missing(f"needs {service.name} at {service.where}, which is not available: "
                        f"{service.how}")


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures start servers for nothing
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in SERVICES:
        if item.get_closest_marker(marker) is not None:
            require_service(marker)


# -- waiting for something to happen --------------------------------------------------------
T = TypeVar("T")


async def eventually(check: Callable[[], T], timeout: float = 10.0,
                     interval: float = 0.05) -> T:
    """Call ``check`` until it returns something true or ``timeout`` seconds have passed;
    its last result, for the caller to assert on (a failure then shows what was seen)."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        await asyncio.sleep(interval)
    return result


def eventually_sync(check: Callable[[], T], timeout: float = 10.0,
                    interval: float = 0.1) -> T:
    """:func:`eventually` for tests without an event loop."""
    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(interval)
    return result


# -- scratch PostgreSQL databases ---------------------------------------------------------
def scratch_postgres(prefix: str = "govbot_test", pre_ping: bool = False):
    """A new, empty database on this machine's PostgreSQL (bot/db/scratch.py)."""
    return scratch.scratch_postgres(PG_URL, prefix, pre_ping)


@pytest.fixture(scope="module")
def scratch_pg():
    """A scratch PostgreSQL database shared by the tests of a module (production mode)."""
    require_service("postgres")
    # pre-ping: the fault-injection test restarts PostgreSQL under this engine
    with scratch_postgres("govbot_prod", pre_ping=True) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path):
    """An empty database engine, on SQLite and on this machine's PostgreSQL."""
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'govbot.db'}" if request.param == "sqlite"
               else stack.enter_context(scratch_postgres()))
        eng = create_engine(url, future=True)
        stack.callback(eng.dispose)
        yield eng


# -- production mode: PostgreSQL, Redis and RabbitMQ; replicas behind nginx ---------------
def production_env(**extra: str) -> dict[str, str]:
    """The environment of production mode on this machine's services."""
    return {"GOVBOT_HOME": os.getcwd(), "GOVBOT_MODE": "production",
            "GOVBOT_DATABASE_URL": PG_URL, "GOVBOT_REDIS_URL": REDIS_URL,
            "GOVBOT_RABBITMQ_URL": AMQP_URL, **extra}


@pytest.fixture
def cluster_command(settings, model_file, scratch_pg, tmp_path) -> ClusterProcess:
    """``govbot cluster --replicas 2`` in production mode on the module's scratch database
    (not started)."""
    require_service("nginx")
    base = consecutive_ports(4)  # replica i: Rasa on base + i, its action server on base + 2 + i
    env = production_env(GOVBOT_HOME=str(settings.root), GOVBOT_DATABASE_URL=scratch_pg,
                         GOVBOT_RASA_PORT=str(base), GOVBOT_ACTION_PORT=str(base + 2),
                         GOVBOT_API_PORT=str(free_port()), GOVBOT_VAR_DIR=str(tmp_path / "var"))
    command = ClusterProcess(env, tmp_path / "var", free_port(), model=model_file)
    yield command
    command.stop()


# -- talking to a running Rasa server through the REST channel ----------------------------
def rest_replies(url: str, sender: str, message: str, timeout: float = 60) -> list[dict]:
    """The bot's replies to ``message`` from ``sender``, through the REST channel at ``url``."""
    req = urllib.request.Request(f"{url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": message}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def say_to(url: str, sender: str, message: str) -> str:
    """The text of the bot's replies at ``url`` (a Rasa server, a cluster's proxy)."""
    return texts(rest_replies(url, sender, message))


def say(services, sender: str, message: str) -> list[dict]:
    """The replies of the ``services`` fixture's Rasa server."""
    return rest_replies(services.rasa_url, sender, message, timeout=30)


def open_ticket(services, sender: str) -> str:
    """Register a bridge-loan problem step by step (checking each question); the reply
    to the final confirmation."""
    first = say(services, sender, "我们厂的过桥资金下个月到期，银行说不续贷了")
    assert "需要为您登记" in texts(first)
    assert [b["payload"] for b in first[-1]["buttons"]] == ["/affirm", "/correct_domain",
                                                             "/deny"]
    assert "企业全称" in texts(say(services, sender, "/affirm"))
    assert "统一社会信用代码" in texts(say(services, sender, "恒丰纸业有限公司"))
    assert "校验未通过" in texts(say(services, sender, "91330825MA2ABCDE1X"))
    assert "哪个县" in texts(say(services, sender, "没有，跳过"))
    assert "联系人" in texts(say(services, sender, "龙游"))
    assert "联系人的姓名或称呼" in texts(say(services, sender, "龙游"))  # a place, not a name
    assert "手机号码" in texts(say(services, sender, "王经理"))
    summary = say(services, sender, "13905701234")
    assert "请核对以下信息" in texts(summary) and "手机：13905701234" in texts(summary)
    assert "金融服务·应急转贷（过桥）与抽贷断贷" in texts(summary)
    # nothing but an explicit confirmation submits: a name at the summary does not
    assert "还没有提交" in texts(say(services, sender, "刘芳"))
    final = say(services, sender, "/affirm")
    assert len(final) == 1, final  # the ticket reply and nothing after it
    return texts(final)


# -- the WeChat platform: its side of the protocol and its push API ------------------------
TOKEN = "govbottoken"  # the callback token configured on both sides
OPENID = "oUser_openid_123456"
ACCOUNT = "gh_0123456789ab"


def sign(*parts: str) -> str:
    """The platform's SHA-1 signature over the sorted strings."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def message_xml(content="你好", msg_type="text", msg_id=None, user=OPENID, **extra) -> str:
    """A callback body as the platform sends it."""
    fields = {"ToUserName": ACCOUNT, "FromUserName": user, "CreateTime": str(int(time.time())),
              "MsgType": msg_type, **({"Content": content} if msg_type == "text" else {}),
              **extra}
    if msg_type != "event":
        fields["MsgId"] = msg_id or str(uuid.uuid4().int)[:16]
    return "<xml>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items()) + "</xml>"


def signed_query(**extra: str) -> dict[str, str]:
    """The query string of a callback, signed with ``TOKEN``."""
    ts, nonce = str(int(time.time())), str(uuid.uuid4().int)[:9]
    return {"timestamp": ts, "nonce": nonce, "signature": sign(TOKEN, ts, nonce), **extra}


class WeChatPlatform:
    """The WeChat / WeCom platform's HTTPS API on a loopback port: hands out access tokens
    T1, T2, … and records each pushed message with the token it came with."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tokens_issued = 0
        self.sent: list[tuple[str, dict]] = []  # (access token, message)
        self.fail_next: list[int] = []  # errcodes to answer the next pushes with

    def pushed_to(self, user: str) -> list[str]:
        """The texts pushed to ``user`` so far."""
        return [m["text"]["content"] for _, m in self.sent
                if m["touser"] == user and "text" in m]

    def templates_to(self, user: str) -> list[dict]:
        """The template messages sent to ``user`` so far."""
        return [m for _, m in self.sent if m["touser"] == user and "template_id" in m]

    async def start(self) -> web.AppRunner:
        async def token(request):
            self.tokens_issued += 1
            return web.json_response({"access_token": f"T{self.tokens_issued}",
                                      "expires_in": 7200})

        async def send(request):
            if self.fail_next:
                return web.json_response({"errcode": self.fail_next.pop(0), "errmsg": "x"})
            self.sent.append((request.query["access_token"], await request.json()))
            return web.json_response({"errcode": 0, "errmsg": "ok"})

        app = web.Application()
        app.router.add_get("/cgi-bin/token", token)  # the Official Account
        app.router.add_get("/cgi-bin/gettoken", token)  # WeCom
        app.router.add_post("/cgi-bin/message/custom/send", send)
        app.router.add_post("/cgi-bin/message/send", send)
        app.router.add_post("/cgi-bin/message/template/send", send)  # Official Account
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


@pytest.fixture
async def wechat_platform():
    """The platform's API, served on the test's event loop."""
    platform = WeChatPlatform()
    runner = await platform.start()
    yield platform
    await runner.cleanup()


@pytest.fixture(scope="module")
def wechat_platform_thread():
    """The platform's API served from its own thread and event loop, for tests that block
    while a real Rasa server pushes to it."""
    platform = WeChatPlatform()
    loop = asyncio.new_event_loop()
    runner = loop.run_until_complete(platform.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield platform
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture(scope="session", autouse=True)
def scratch_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run-time data of this test run (ticket database, outbox, tokens) goes to a scratch
    folder, never to the project's var/; child processes inherit it."""
    var = tmp_path_factory.mktemp("var")
    saved = os.environ.get("GOVBOT_VAR_DIR")
    os.environ["GOVBOT_VAR_DIR"] = str(var)
    yield var
    if saved is None:
        os.environ.pop("GOVBOT_VAR_DIR", None)
    else:
        os.environ["GOVBOT_VAR_DIR"] = saved


@pytest.fixture(scope="session")
def settings(scratch_var: Path) -> Settings:
    quiet_rasa_environment()
    return load_settings({"GOVBOT_HOME": str(ROOT), "GOVBOT_VAR_DIR": str(scratch_var)})


@pytest.fixture(scope="session")
def model_file(settings: Settings) -> Path:
    """The project model, trained first when the training inputs changed."""
    from bot.model import train

    with contextlib.redirect_stdout(sys.stderr):
        return train(settings).model


@pytest.fixture(scope="session")
def parser(model_file: Path):
    from bot.parsing import NluParser

    p = NluParser(model_file)
    yield p
    p.close()


@pytest.fixture(scope="session")
def services(settings: Settings, model_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """The department API, the action server and the Rasa server, running for real on
    free loopback ports."""
    from bot.runner import Services
    from bot.shell import free_port

    live = replace(settings, rasa_port=free_port(), action_port=free_port(),
                   api_port=free_port())
    run_dir = tmp_path_factory.mktemp("run")
    # the action server keeps its tickets in a scratch SQLite file, not in var/
    saved = os.environ.get("GOVBOT_DATABASE_URL")
    os.environ["GOVBOT_DATABASE_URL"] = f"sqlite:///{run_dir / 'tickets.db'}"
    from bot.http.tokens import add_token

    tokens = {"admin": add_token(live.api_tokens_file, "管理员", "admin"),
              "handler": add_token(live.api_tokens_file, "金融办张三", "handler",
                                   "龙游县金融工作服务中心"),
              "agent": add_token(live.api_tokens_file, "话务员", "agent")}
    svc = Services(live, model_file, run_dir)
    svc.tokens = tokens  # bearer tokens of the department API, by role
    try:
        svc.start()
        yield svc
    finally:
        svc.stop()
        if saved is None:
            os.environ.pop("GOVBOT_DATABASE_URL", None)
        else:
            os.environ["GOVBOT_DATABASE_URL"] = saved


# -- the web application on a test client, with a stand-in Rasa server -------------------
WEB_PASSWORD = "correct horse battery"
FAKE_RASA_TOKEN = "rasa-api-token"
PARSE = {"text": "", "intent": {"name": "report_need", "confidence": 0.95},
         "domain": {"name": "finance", "confidence": 0.9},
         "subtopic": {"name": "bridge_loan", "confidence": 0.8}, "domain_ranking": [],
         "entities": [{"entity": "region", "value": "龙游县", "start": 0, "end": 2},
                      {"entity": "company", "value": "龙游县恒丰纸业有限公司"}]}


@pytest.fixture
async def fake_rasa():
    async def parse(request):
        body = await request.json()
        return web.json_response({**PARSE, "text": body["text"]})

    async def rest(request):
        body = await request.json()
        text = f"已受理，工单号：QZ-20261126-0001（{body['message']}）"
        return web.json_response([{"recipient_id": body["sender"], "text": text}])

    async def trigger(request):
        return web.json_response({})

    staff_replies: list[dict] = []  # what bot/channels/staff.py would append

    async def tracker(request):
        return web.json_response({"events": [
            {"event": "user", "text": "你好", "timestamp": 100.0},
            {"event": "bot", "text": "您好！", "timestamp": 100.5},
            {"event": "user", "text": "EXTERNAL: EXTERNAL_ticket_update", "timestamp": 200.0},
            {"event": "bot", "text": "您的工单已办结。", "timestamp": 200.5},
            {"event": "bot", "text": "请打分", "timestamp": 200.6,
             "data": {"buttons": [{"title": "5分", "payload": "/rate_service"}]}},
            {"event": "user", "text": "转人工", "timestamp": 300.0},
            *[r for r in staff_replies if r["cid"] == request.match_info["cid"]]],
            "slots": {"company": "龙游县恒丰纸业有限公司", "contact_name": "王经理",
                      "mobile": "13905701234", "region": "龙游县"}})

    async def staff_reply(request):
        if request.query.get("token") != FAKE_RASA_TOKEN:  # the channel checks it itself
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        staff_replies.append({"event": "bot", "text": "【人工客服】" + body["text"],
                              "timestamp": 400.0 + len(staff_replies), "cid": body[
                                  "conversation_id"], "metadata": {"staff": body["agent"]}})
        return web.json_response({"channel": "rest", "delivery": "polling", "delivered": True})

    @web.middleware
    async def token_required(request, handler):  # as Rasa with --auth-token
        if not request.path.startswith("/webhooks/") \
                and request.query.get("token") != FAKE_RASA_TOKEN:
            return web.json_response({"status": "failure"}, status=401)
        return await handler(request)

    app = web.Application(middlewares=[token_required])
    app.router.add_post("/model/parse", parse)
    app.router.add_post("/webhooks/rest/webhook", rest)
    app.router.add_post("/conversations/{cid}/trigger_intent", trigger)
    app.router.add_get("/conversations/{cid}/tracker", tracker)
    app.router.add_post("/webhooks/staff/reply", staff_reply)
    server = TestServer(app)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def site(settings, tmp_path, fake_rasa):
    s = replace(settings, var=str(tmp_path), database_url="")
    backend = build_backend(s)
    users = UserStore(backend.engine)
    users.add("admin", WEB_PASSWORD, "admin")
    users.add("agent", WEB_PASSWORD, "agent", display_name="话务员小王")
    users.add("finance", WEB_PASSWORD, "handler", "龙游县金融工作服务中心")
    policies = tmp_path / "policies"  # a copy: approving a standard question writes to it
    shutil.copytree(settings.kb_source_dir, policies)
    kb = KnowledgeBase(tmp_path / "kb", create=True)
    kb.ingest(policies)
    rasa_api = RasaApi(str(fake_rasa.make_url("")).rstrip("/"), FAKE_RASA_TOKEN)
    app = create_app(backend, {}, RasaNotifier(rasa_api, backend.service.store),
                     s.openapi_file.read_text(encoding="utf-8"), kb=kb)
    add_web(app, users, rasa_api, policies, trusted_proxies=frozenset({"127.0.0.1"}))
    client = TestClient(TestServer(app))
    await client.start_server()
    client.backend, client.kb, client.policies = backend, kb, policies
    client.login = lambda username: login(client, username)
    client.password = WEB_PASSWORD
    yield client
    await client.close()
    kb.close()


async def login(client, username):
    r = await client.post("/login", data={"username": username, "password": WEB_PASSWORD},
                          allow_redirects=False)
    assert r.status == 302, await r.text()
    page = await client.get(r.headers["Location"])
    csrf = re.search(r'name="csrf" content="([^"]+)"', await page.text()).group(1)
    return r, csrf


# -- the web pages in a real headless browser (Debian's Chromium, Playwright) ------------
SHOTS = ROOT / "test-output" / "screenshots"
PASSWORD = "browser-test-password"


@pytest.fixture(scope="module")
def web_users(services):
    users = UserStore(create_engine(services.database_url))
    for name, role, dept in (("b-admin", "admin", None), ("b-agent", "agent", None)):
        try:
            users.add(name, PASSWORD, role, dept)
        except UserError:
            pass  # created by an earlier module of this session
    return f"http://{services.settings.host}:{services.settings.api_port}"


@pytest.fixture
def shots() -> Path:
    """Where browser tests save screenshots for review (test-output/screenshots)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
async def browser():
    require_service("browser")  # also for a test that lacks the marker
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        await b.close()


async def _signed_in(browser, base, username, size=(1366, 768)):
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]},
                                        accept_downloads=True, locale="zh-CN")
    page = await context.new_page()
    await page.goto(f"{base}/login")
    await page.screenshot(path=SHOTS / "login.png")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    return page


@pytest.fixture
def signed_in():
    """``await signed_in(browser, base, username, size)``: a page after the login."""
    return _signed_in
