"""Shared fixtures: the project settings, a current trained model, a parser, live servers."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import async_playwright
from sqlalchemy import create_engine, text

from bot.api.app import create_app
from bot.api.notify import RasaNotifier
from bot.kb.index import KnowledgeBase
from bot.logs import quiet_rasa_environment
from bot.settings import RasaApi, Settings, load_settings
from bot.tickets.factory import build_backend
from bot.web.app import add_web
from bot.web.corrections import add_correction_routes
from bot.web.inbox import add_inbox_routes
from bot.web.knowledge import add_knowledge_routes
from bot.web.queue import add_queue_routes
from bot.web.users import UserError, UserStore

ROOT = Path(__file__).resolve().parent.parent

#: a PostgreSQL database to connect to while creating and dropping scratch databases
PG_URL = os.environ.get("GOVBOT_TEST_PG_URL", "postgresql+psycopg2://127.0.0.1:5432/test")


@contextlib.contextmanager
def scratch_postgres(prefix: str = "govbot_test"):
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """An empty database engine, on SQLite and on this machine's PostgreSQL."""
    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'govbot.db'}" if request.param == "sqlite"
               else stack.enter_context(scratch_postgres()))
        eng = create_engine(url, future=True)
        stack.callback(eng.dispose)
        yield eng


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
    from bot.api.tokens import add_token

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
    add_web(app, users, rasa_api, trusted_proxies=frozenset({"127.0.0.1"}))
    add_knowledge_routes(app, policies)
    add_correction_routes(app)
    add_queue_routes(app)
    add_inbox_routes(app)
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
CHROMIUM = "/usr/bin/chromium"
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
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
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
