import json

import pytest

from bot.channels.rest_protocol import MAX_BODY_BYTES, BadRequestBody, parse_body


def body(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def test_a_valid_request():
    msg = parse_body(body({"sender": " u1 ", "message": "你好", "metadata": {"a": 1}}))
    assert (msg.sender, msg.text, msg.metadata) == ("u1", "你好", {"a": 1})


def test_an_empty_message_is_accepted():
    assert parse_body(body({"sender": "u1", "message": ""})).text == ""


@pytest.mark.parametrize("raw,code", [
    (b"{not json", "invalid_json"),
    (b"\xff\xfe", "invalid_json"),
    (b"[]", "invalid_json"),
    (body({"message": "你好"}), "invalid_sender"),
    (body({"sender": "", "message": "你好"}), "invalid_sender"),
    (body({"sender": "x" * 129, "message": "你好"}), "invalid_sender"),
    (body({"sender": 5, "message": "你好"}), "invalid_sender"),
    (body({"sender": "u1"}), "invalid_message"),
    (body({"sender": "u1", "message": None}), "invalid_message"),
    (body({"sender": "u1", "message": 123}), "invalid_message"),
    (body({"sender": "u1", "message": "x", "metadata": []}), "invalid_metadata"),
])
def test_bad_requests_are_rejected_with_a_reason(raw, code):
    with pytest.raises(BadRequestBody) as err:
        parse_body(raw)
    assert err.value.code == code and err.value.status == 400
    assert err.value.reason.isascii()  # logs in English
    assert "请" in err.value.message  # people get a polite Chinese request


def test_an_oversized_body_is_413():
    with pytest.raises(BadRequestBody) as err:
        parse_body(b"{" + b" " * MAX_BODY_BYTES + b"}")
    assert err.value.status == 413
