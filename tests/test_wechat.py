"""The WeChat Official Account and WeCom channels, tested by playing the platform.

Requests are built as the published algorithms specify — SHA-1 signatures over the
sorted strings, AES-256-CBC with the EncodingAESKey (implemented here with the
`cryptography` package directly, independently of the channel's wechatpy) — and
sent over HTTP to the channel's blueprint served by Sanic on 127.0.0.1. The bot is
a small coroutine standing in for Rasa; the platform's push API is a local aiohttp
server recording calls (the ``wechat_platform`` fixture of conftest.py). The official
WeCom sample vectors (WXBizMsgCrypt's Sample.py) check the crypto against the
platform's own numbers.
"""

import asyncio
import base64
import json
import os
import struct
import time
import uuid

import aiohttp
import pytest
from conftest import ACCOUNT, OPENID, TOKEN, eventually, message_xml, sign, signed_query
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml.ElementTree import fromstring
from sanic import Sanic

from bot.channels.wechat import WeChatInput
from bot.channels.wecom import WeComInput
from bot.channels.wxstate import RedisState
from bot.shell import free_port

AES_KEY = base64.b64encode(os.urandom(32)).decode()[:43]
APP_ID = "wx1234567890abcdef"

# The WeCom sample of WXBizMsgCrypt (Sample.py): the platform's own numbers.
SAMPLE = {"token": "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
          "key": "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "corp": "ww1436e0e65a779aee"}
SAMPLE_VERIFY = {"msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
                 "timestamp": "1476416373", "nonce": "47744683",
                 "echostr": "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoV"
                            "zEtpbhnFyq6SVHyA=="}
SAMPLE_POST = {"msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
               "timestamp": "1476422779", "nonce": "1597212914"}
SAMPLE_ENCRYPT = (
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTk"
    "AgGzBhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQ"
    "bZ9U+3JWcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEb"
    "U2qARR4iQHE7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwa"
    "WbvL6aSDPOYuPDGOCI8jmnKiypE+")


# -- the platform's side of the algorithms (signatures, messages: conftest.py) -------------
def platform_encrypt(key43, plaintext, receiver_id):
    key = base64.b64decode(key43 + "=")
    raw = os.urandom(16) + struct.pack(">I", len(plaintext.encode())) + plaintext.encode() \
        + receiver_id.encode()
    pad = 32 - len(raw) % 32
    raw += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(raw) + enc.finalize()).decode()


def platform_decrypt(key43, encrypted):
    key = base64.b64decode(key43 + "=")
    dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = dec.update(base64.b64decode(encrypted)) + dec.finalize()
    raw = raw[:-raw[-1]]
    length = struct.unpack(">I", raw[16:20])[0]
    return raw[20:20 + length].decode(), raw[20 + length:].decode()


# -- the stand-in for the bot (the platform's API: the wechat_platform fixture) --------------
class Bot:
    """Plays Rasa: records what it is told, answers after ``delay`` seconds."""

    def __init__(self):
        self.heard, self.delay, self.reply, self.buttons = [], 0.0, None, None

    async def __call__(self, message):
        self.heard.append((message.sender_id, message.text))
        await asyncio.sleep(self.delay)  # a slow bot is the behaviour under test
        text = self.reply or f"收到：{message.text}"
        if self.buttons:
            await message.output_channel.send_text_with_buttons(message.sender_id, text,
                                                                self.buttons)
        else:
            await message.output_channel.send_text_message(message.sender_id, text)


class Served:
    def __init__(self, channel, bot, url):
        self.channel, self.bot, self.url = channel, bot, url

    async def get(self, query):
        async with aiohttp.ClientSession() as s, s.get(self.url, params=query) as r:
            return r.status, await r.text()

    async def post(self, query, body):
        data = body.encode() if isinstance(body, str) else body
        async with aiohttp.ClientSession() as s, s.post(self.url, params=query,
                                                        data=data) as r:
            return r.status, await r.text()


async def serve(channel):
    bot = Bot()
    app = Sanic(f"wx{uuid.uuid4().hex[:8]}")
    Sanic.test_mode = True  # Sanic then rewrites its classes from the originals on each start
    app.blueprint(channel.blueprint(bot), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    return server, Served(channel, bot, f"http://127.0.0.1:{port}/webhooks/{channel.name()}"
                                       "/webhook")


@pytest.fixture
async def make(wechat_platform, tmp_path, monkeypatch):
    """Start a channel from credentials; stop every server at the end."""
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    servers = []

    async def start(kind="wechat", **credentials):
        if kind == "wechat":
            creds = {"token": TOKEN, "app_id": APP_ID, "app_secret": "s3cret",
                     "api_base": wechat_platform.base, **credentials}
            channel = WeChatInput.from_credentials(creds)
        else:
            creds = {"token": SAMPLE["token"], "corp_id": SAMPLE["corp"], "agent_id": "1000002",
                     "secret": "s3cret", "encoding_aes_key": SAMPLE["key"],
                     "api_base": wechat_platform.base, **credentials}
            channel = WeComInput.from_credentials(creds)
        server, served = await serve(channel)
        servers.append(server)
        return served

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def reply_fields(xml):
    return {c.tag: c.text or "" for c in fromstring(xml)}


# -- URL verification ----------------------------------------------------------------------
async def test_official_account_url_verification(make):
    wx = await make()
    assert await wx.get(signed_query(echostr="hello123")) == (200, "hello123")
    bad = signed_query(echostr="hello123")
    bad["signature"] = "0" * 40
    assert await wx.get(bad) == (403, "")


async def test_wecom_url_verification_with_the_platforms_sample(make):
    wecom = await make("wecom", timestamp_window=10**10)  # the sample is from 2016
    assert await wecom.get(SAMPLE_VERIFY) == (200, "1288432023552776189")
    stale = await make("wecom")  # with the default 5-minute window it is a replay
    assert (await stale.get(SAMPLE_VERIFY))[0] == 403


# -- messages in every mode -------------------------------------------------------------------
async def test_plaintext_mode_reply_swaps_to_and_from(make):
    wx = await make()
    status, body = await wx.post(signed_query(openid=OPENID), message_xml("我们厂贷款到期了"))
    assert status == 200
    reply = reply_fields(body)
    assert (reply["ToUserName"], reply["FromUserName"]) == (OPENID, ACCOUNT)
    assert reply["MsgType"] == "text" and reply["Content"] == "收到：我们厂贷款到期了"
    assert wx.bot.heard == [(f"wechat:{OPENID}", "我们厂贷款到期了")]


async def test_safe_mode_decrypts_and_answers_encrypted(make):
    wx = await make(encoding_aes_key=AES_KEY)
    q = signed_query(openid=OPENID, encrypt_type="aes")
    encrypted = platform_encrypt(AES_KEY, message_xml("出口退税多久到账"), APP_ID)
    q["msg_signature"] = sign(TOKEN, q["timestamp"], q["nonce"], encrypted)
    status, body = await wx.post(q, f"<xml><ToUserName>{ACCOUNT}</ToUserName>"
                                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    assert status == 200
    outer = reply_fields(body)
    assert outer["MsgSignature"] == sign(TOKEN, outer["TimeStamp"], outer["Nonce"],
                                         outer["Encrypt"])
    inner, app_id = platform_decrypt(AES_KEY, outer["Encrypt"])
    assert app_id == APP_ID and reply_fields(inner)["Content"] == "收到：出口退税多久到账"


async def test_compatible_mode_carries_both(make):
    wx = await make(encoding_aes_key=AES_KEY)
    xml = message_xml("你好")
    encrypted = platform_encrypt(AES_KEY, xml, APP_ID)
    q = signed_query(openid=OPENID, encrypt_type="aes")
    q["msg_signature"] = sign(TOKEN, q["timestamp"], q["nonce"], encrypted)
    both = xml.replace("</xml>", f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
    status, body = await wx.post(q, both)
    assert status == 200 and "Encrypt" in reply_fields(body)
    # without encrypt_type the same callback is answered in plaintext
    status, body = await wx.post(signed_query(openid=OPENID), message_xml("在吗"))
    assert reply_fields(body)["Content"] == "收到：在吗"


async def test_wecom_message_from_the_platforms_sample(make):
    wecom = await make("wecom", timestamp_window=10**10)
    body = (f"<xml><ToUserName><![CDATA[{SAMPLE['corp']}]]></ToUserName><Encrypt><![CDATA["
            f"{SAMPLE_ENCRYPT}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")
    status, reply = await wecom.post(SAMPLE_POST, body)
    assert status == 200 and wecom.bot.heard == [("wecom:ChenJiaShun", "你好")]
    outer = reply_fields(reply)
    assert outer["MsgSignature"] == sign(SAMPLE["token"], outer["TimeStamp"], outer["Nonce"],
                                         outer["Encrypt"])
    inner, corp = platform_decrypt(SAMPLE["key"], outer["Encrypt"])
    fields = reply_fields(inner)
    assert corp == SAMPLE["corp"] and fields["ToUserName"] == "ChenJiaShun"
    assert fields["FromUserName"] == SAMPLE["corp"] and fields["Content"] == "收到：你好"


def wecom_post(xml, corp=SAMPLE["corp"]):
    encrypted = platform_encrypt(SAMPLE["key"], xml, corp)
    ts, nonce = str(int(time.time())), "778899"
    return ({"msg_signature": sign(SAMPLE["token"], ts, nonce, encrypted), "timestamp": ts,
             "nonce": nonce},
            f"<xml><ToUserName>{corp}</ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID>1000002</AgentID></xml>")


async def test_wecom_rejects_another_corp_and_another_agent(make):
    wecom = await make("wecom")
    assert (await wecom.post(*wecom_post(message_xml("x"), corp="wwOTHERCORP")))[0] == 400
    other_agent = message_xml("x").replace("</xml>", "<AgentID>999</AgentID></xml>")
    assert (await wecom.post(*wecom_post(other_agent)))[0] == 400
    assert wecom.bot.heard == []


# -- the 5-second rule, retries, exactly once -------------------------------------------------
async def test_retries_while_the_first_call_runs_are_answered_once(make):
    wx = await make()
    wx.bot.delay = 1.0
    xml = message_xml("过桥资金的事", msg_id="6000000000000000001")
    results = await asyncio.gather(*(wx.post(signed_query(openid=OPENID), xml)
                                     for _ in range(3)))
    bodies = [body for _, body in results]
    assert bodies.count("success") == 2
    assert ["收到：过桥资金的事" in b for b in bodies].count(True) == 1
    assert len(wx.bot.heard) == 1


async def test_a_slow_bot_answers_through_the_push_api(make, wechat_platform):
    platform = wechat_platform
    wx = await make(reply_budget=0.3)
    wx.bot.delay = 1.0
    started = time.monotonic()
    status, body = await wx.post(signed_query(openid=OPENID), message_xml("慢一点的问题"))
    assert (status, body) == (200, "success") and time.monotonic() - started < 1.0
    await eventually(lambda: platform.sent)  # the late reply, pushed
    assert platform.tokens_issued == 1
    ((token, sent),) = platform.sent
    assert token == "T1" and sent == {"touser": OPENID, "msgtype": "text",
                                      "text": {"content": "收到：慢一点的问题"}}
    # a second late reply reuses the cached token; an expired token is fetched again
    platform.fail_next.append(42001)
    await wx.post(signed_query(openid=OPENID), message_xml("第二个问题"))
    await eventually(lambda: len(platform.sent) >= 2)
    assert platform.tokens_issued == 2 and [t for t, _ in platform.sent] == ["T1", "T2"]


async def test_wecom_pushes_app_messages_with_the_agent_id(make, wechat_platform):
    wecom = await make("wecom", reply_budget=0.2)
    wecom.bot.delay = 0.6
    assert (await wecom.post(*wecom_post(message_xml("慢", user="LiSi"))))[1] == "success"
    await eventually(lambda: wechat_platform.sent)  # the late reply, pushed
    (_, sent), = wechat_platform.sent
    assert sent["touser"] == "LiSi" and sent["agentid"] == 1000002


@pytest.mark.redis
async def test_redis_dedup_is_shared_by_two_replicas(make):
    redis_url = "redis://127.0.0.1:6379/15"
    first = await make(redis_url=redis_url)
    second = await make(redis_url=redis_url)
    xml = message_xml("两个副本", msg_id=str(uuid.uuid4().int)[:18])
    a, b = await asyncio.gather(first.post(signed_query(openid=OPENID), xml),
                                second.post(signed_query(openid=OPENID), xml))
    assert sorted([a[1] == "success", b[1] == "success"]) == [False, True]
    assert len(first.bot.heard) + len(second.bot.heard) == 1
    state = first.channel.state
    assert isinstance(state, RedisState)
    await state.close()
    await second.channel.state.close()


# -- message types and events ---------------------------------------------------------------
@pytest.mark.parametrize("kind,extra,heard", [
    ("voice", {"Recognition": "我们的出口退税还没到账", "MediaId": "m", "Format": "amr"},
     "我们的出口退税还没到账"),
    ("location", {"Location_X": "29.03", "Location_Y": "119.17", "Scale": "15",
                  "Label": "浙江省衢州市龙游县龙洲街道"}, '/inform_region{"region":"龙游县"}'),
    ("event", {"Event": "subscribe"}, "/greet"),
    ("event", {"Event": "CLICK", "EventKey": "help"}, "/help"),
    ("event", {"Event": "CLICK", "EventKey": "ticket_status"}, "/ask_ticket_status"),
])
async def test_messages_and_events_that_reach_the_bot(make, kind, extra, heard):
    wx = await make()
    await wx.post(signed_query(openid=OPENID), message_xml(msg_type=kind, **extra))
    assert wx.bot.heard == [(f"wechat:{OPENID}", heard)]


@pytest.mark.parametrize("kind,extra,answer", [
    ("image", {"PicUrl": "http://x/y.jpg", "MediaId": "m"}, "只能处理文字和语音"),
    ("file", {"Title": "a.pdf"}, "只能处理文字和语音"),
    ("shortvideo", {"MediaId": "m"}, "只能处理文字和语音"),
    ("voice", {"MediaId": "m", "Format": "amr"}, "没有听清"),
    ("location", {"Label": "上海市浦东新区"}, "不在浙江省内"),
    ("event", {"Event": "unsubscribe"}, None),
    ("event", {"Event": "VIEW", "EventKey": "https://x"}, None),
])
async def test_messages_the_channel_answers_itself(make, kind, extra, answer):
    wx = await make()
    status, body = await wx.post(signed_query(openid=OPENID),
                                 message_xml(msg_type=kind, **extra))
    assert status == 200 and wx.bot.heard == []
    if answer is None:
        assert body == "success"
    else:
        assert answer in reply_fields(body)["Content"]


async def test_buttons_become_numbered_options_and_a_number_picks_one(make):
    wx = await make()
    wx.bot.buttons = [{"title": "需要登记", "payload": "/affirm"},
                      {"title": "类别不对", "payload": "/correct_domain"}]
    _, body = await wx.post(signed_query(openid=OPENID), message_xml("贷款到期银行不续贷"))
    assert "请回复序号或文字：\n1. 需要登记\n2. 类别不对" in reply_fields(body)["Content"]
    wx.bot.buttons = None
    await wx.post(signed_query(openid=OPENID), message_xml("2"))
    await wx.post(signed_query(openid=OPENID), message_xml("2"))  # buttons used up
    assert [t for _, t in wx.bot.heard[1:]] == ["/correct_domain", "2"]


async def test_long_replies_are_split_and_the_rest_pushed(make, wechat_platform):
    wx = await make()
    wx.bot.reply = "。".join(f"第{i}段政策内容说明" for i in range(300))
    _, body = await wx.post(signed_query(openid=OPENID), message_xml("长回答"))
    first = reply_fields(body)["Content"]
    assert len(first.encode()) <= 2000

    def pushed_so_far():
        return [b["text"]["content"] for _, b in wechat_platform.sent]

    await eventually(  # the rest of the reply, pushed
        lambda: (first + "".join(pushed_so_far())).replace("\n", "") == wx.bot.reply)
    pushed = pushed_so_far()
    assert pushed and all(len(p.encode()) <= 2000 for p in pushed)
    assert (first + "".join(pushed)).replace("\n", "") == wx.bot.reply


async def test_pushes_outside_the_48_hour_window_are_recorded_not_sent(make, wechat_platform,
                                                                       tmp_path):
    wx = await make()
    await wx.channel.get_output_channel().send_text_message("wechat:oNeverWrote", "工单已办结")
    assert wechat_platform.sent == []
    (record,) = [json.loads(line) for line in
                 (tmp_path / "undelivered.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["user"] == "oNeverWrote" and "48-hour" in record["reason"]
    # a user who wrote recently gets the notification
    await wx.post(signed_query(openid=OPENID), message_xml("你好"))
    await wx.channel.get_output_channel().send_text_message(f"wechat:{OPENID}", "工单已办结")
    assert wechat_platform.sent[-1][1]["text"]["content"] == "工单已办结"


# -- bad input ---------------------------------------------------------------------------
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
                  '<xml><Content>&lol2;</Content></xml>')
XXE = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
       '<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName>'
       '<MsgType>text</MsgType><Content>&e;</Content></xml>')


@pytest.mark.parametrize("body,status", [
    ("<xml><ToUserName>a</ToUserName", 400),
    (BILLION_LAUGHS, 400),
    (XXE, 400),
    ("<xml><Content>no sender</Content></xml>", 400),
    ("x" * 70_000, 413),
])
async def test_bad_bodies_are_refused_without_details(make, body, status):
    wx = await make()
    got = await wx.post(signed_query(openid=OPENID), body)
    assert got == (status, "") and wx.bot.heard == []


async def test_bad_signatures_and_stale_timestamps_process_nothing(make):
    wx = await make(encoding_aes_key=AES_KEY)
    q = signed_query(openid=OPENID)
    q["signature"] = "f" * 40
    assert await wx.post(q, message_xml()) == (403, "")
    old = str(int(time.time()) - 3600)
    q = {"timestamp": old, "nonce": "1", "signature": sign(TOKEN, old, "1")}
    assert await wx.post(q, message_xml()) == (403, "")
    # encrypted, but the msg_signature does not match the payload
    encrypted = platform_encrypt(AES_KEY, message_xml(), APP_ID)
    q = signed_query(openid=OPENID, encrypt_type="aes", msg_signature="0" * 40)
    assert await wx.post(q, f"<xml><Encrypt>{encrypted}</Encrypt></xml>") == (403, "")
    assert wx.bot.heard == []


async def test_undecryptable_and_foreign_app_payloads_are_refused(make):
    wx = await make(encoding_aes_key=AES_KEY)
    for encrypted in (base64.b64encode(b"not really encrypted").decode(),
                      platform_encrypt(AES_KEY, message_xml(), "wxSOMEONEELSE")):
        q = signed_query(openid=OPENID, encrypt_type="aes")
        q["msg_signature"] = sign(TOKEN, q["timestamp"], q["nonce"], encrypted)
        assert await wx.post(q, f"<xml><Encrypt>{encrypted}</Encrypt></xml>") == (400, "")
    assert wx.bot.heard == []


def test_missing_credentials_are_named():
    with pytest.raises(ValueError, match="missing credentials app_secret"):
        WeChatInput.from_credentials({"token": "t", "app_id": "a"})
    with pytest.raises(ValueError, match="43-character EncodingAESKey"):
        WeChatInput.from_credentials({"token": "t", "app_id": "a", "app_secret": "s",
                                      "encoding_aes_key": "short"})
    with pytest.raises(ValueError, match="encoding_aes_key"):
        WeComInput.from_credentials({"token": "t", "corp_id": "c", "agent_id": "1",
                                     "secret": "s"})


def test_secrets_never_reach_the_log(caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    channel = WeChatInput.from_credentials({"token": "t0k3n", "app_id": "wxapp",
                                            "app_secret": "SUPERSECRET"})
    channel.api.record("oUser_openid_123456", "正文", "errcode 45015")
    assert "SUPERSECRET" not in caplog.text and "oUser_openid_123456" not in caplog.text
