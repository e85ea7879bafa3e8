"""The WeChat / WeCom callback protocol: signatures, timestamps, message XML, AES.

Both platforms sign with SHA-1 over the sorted strings (token, timestamp, nonce
[, encrypted payload]) and encrypt with AES-256-CBC (the key is the
EncodingAESKey, the plaintext is 16 random bytes, a 4-byte length, the message
and the app id / corp id). The AES part is wechatpy's (``PrpCrypto``); what the
library does not do is done here: constant-time signature comparison, a window
for timestamps, and XML parsing that refuses entities (defusedxml).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import time
from dataclasses import dataclass, field
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_BODY = 64 * 1024  # a callback is a few hundred bytes; anything bigger is refused
TEXT_LIMIT = 2000  # bytes of UTF-8 per text message (the platforms allow 2048)


class ProtocolError(Exception):
    """A request that does not follow the protocol; ``reason`` is for the log (English)
    and never includes secrets or the payload; ``status`` is the HTTP answer."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


def signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def check_signature(given: str | None, *parts: str) -> None:
    if not given or not hmac.compare_digest(signature(*parts), given.lower()):
        raise ProtocolError("signature mismatch", 403)


def check_timestamp(timestamp: str | None, window: int, now: float | None = None) -> None:
    """Reject replays: the platform's timestamp must be within ``window`` seconds."""
    try:
        ts = int(timestamp or "")
    except ValueError:
        raise ProtocolError("timestamp missing or not a number", 403) from None
    if abs((now or time.time()) - ts) > window:
        raise ProtocolError(f"stale timestamp (more than {window} s off)", 403)


def parse_xml(body: bytes) -> dict[str, str]:
    """The child elements of ``<xml>`` as strings; refuses DTDs, entities, bad XML."""
    if len(body) > MAX_BODY:
        raise ProtocolError(f"body larger than {MAX_BODY} bytes", 413)
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as err:
        raise ProtocolError(f"malformed or unsafe XML ({type(err).__name__})") from None
    return {child.tag: (child.text or "") for child in root}


class Cipher:
    """The platforms' message encryption, via wechatpy, with errors as ProtocolError."""

    def __init__(self, encoding_aes_key: str, receiver_id: str) -> None:
        import base64

        from wechatpy.crypto import PrpCrypto

        try:
            key = base64.b64decode(encoding_aes_key + "=")
        except ValueError:
            key = b""
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("encoding_aes_key must be the 43-character EncodingAESKey")
        self._crypto = PrpCrypto(key)
        self.receiver_id = receiver_id

    def decrypt(self, encrypted: str) -> str:
        from wechatpy.exceptions import InvalidAppIdException

        try:
            return self._crypto.decrypt(encrypted, self.receiver_id)
        except InvalidAppIdException:
            raise ProtocolError("app id / corp id in the message does not match") from None
        except (ValueError, IndexError, TypeError, struct.error, UnicodeDecodeError) as err:
            raise ProtocolError(f"cannot decrypt ({type(err).__name__})") from None

    def encrypt(self, plaintext: str) -> str:
        return self._crypto.encrypt(plaintext, self.receiver_id).decode("ascii")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str, now: int | None = None) -> str:
    """A passive text reply: To and From swapped relative to the incoming message."""
    return (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
            f"<FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{now or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content>{_cdata(content)}</Content></xml>")


def encrypted_reply(cipher: Cipher, token: str, plaintext_xml: str, nonce: str,
                    timestamp: str | None = None) -> str:
    timestamp = timestamp or str(int(time.time()))
    encrypted = cipher.encrypt(plaintext_xml)
    sig = signature(token, timestamp, nonce, encrypted)
    return (f"<xml><Encrypt>{_cdata(encrypted)}</Encrypt>"
            f"<MsgSignature>{_cdata(sig)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>")


# -- messages and replies ----------------------------------------------------------------
@dataclass(frozen=True)
class Inbound:
    """One message or event from the platform, as the channel needs it."""

    user: str  # FromUserName: the OpenID (Official Account) or UserID (WeCom)
    account: str  # ToUserName: the account / corp id
    kind: str  # MsgType: text, voice, location, image, event, …
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; sender + CreateTime (+ event) for events, which have none."""
        if self.fields.get("MsgId"):
            return f"msg:{self.fields['MsgId']}"
        return f"evt:{self.user}:{self.fields.get('CreateTime', '')}:" \
               f"{self.fields.get('Event', '')}:{self.fields.get('EventKey', '')}"


def inbound(fields: dict[str, str]) -> Inbound:
    user, kind = fields.get("FromUserName", ""), fields.get("MsgType", "")
    if not user or not kind:
        raise ProtocolError("message without FromUserName or MsgType")
    return Inbound(user, fields.get("ToUserName", ""), kind, fields)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` UTF-8 bytes, cut at line ends, then sentence ends."""
    if len(text.encode("utf-8")) <= limit:
        return [text]
    pieces, current = [], ""
    for unit in _units(text):
        while len(unit.encode("utf-8")) > limit:  # one unit too long: cut by characters
            cut = len(unit)
            while len(unit[:cut].encode("utf-8")) > limit:
                cut -= 1
            if current:
                pieces.append(current)
                current = ""
            pieces.append(unit[:cut])
            unit = unit[cut:]
        if len((current + unit).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
        current += unit
    if current:
        pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def _units(text: str) -> list[str]:
    import re

    units: list[str] = []
    for line in text.splitlines(keepends=True):
        units += [u for u in re.split(r"(?<=[。！？；])", line) if u]
    return units


def with_buttons(text: str, buttons: list[dict]) -> str:
    """WeChat text has no buttons: list them so the user can reply with a number or title."""
    if not buttons:
        return text
    options = "\n".join(f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1))
    return f"{text}\n\n请回复序号或文字：\n{options}"


def chosen_payload(text: str, buttons: list[dict]) -> str | None:
    """The payload of the button the user's reply names (its number or its title)."""
    answer = text.strip().rstrip("。.")
    for i, b in enumerate(buttons, start=1):
        if answer in (str(i), b.get("title", "").strip()):
            return b.get("payload")
    return None
