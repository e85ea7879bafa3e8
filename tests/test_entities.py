import pytest

from bot.entities import extract_entities, money_to_yuan


def found(text):
    return [(e.entity, text[e.start:e.end], e.value) for e in extract_entities(text)]


def test_a_long_complaint():
    text = ("我们是江山市宏达门业有限公司，统一社会信用代码91110108551385082Q，"
            "客户拖欠货款八十多万元，2026年3月5日到期，联系电话138 1234 5678")
    ents = found(text)
    assert ("company", "江山市宏达门业有限公司", "江山市宏达门业有限公司") in ents
    assert ("credit_code", "91110108551385082Q", "91110108551385082Q") in ents
    assert ("amount", "八十多万元", "八十多万元") in ents
    assert ("date", "2026年3月5日", "2026年3月5日") in ents
    assert ("phone", "138 1234 5678", "13812345678") in ents
    assert ("region", "江山市", "江山市") in ents


@pytest.mark.parametrize("text,yuan", [
    ("500万", 5_000_000), ("1.2亿", 120_000_000), ("三百来万", 3_000_000),
    ("五千块", 5000), ("人民币3,000元", 3000), ("一千二百万元", 12_000_000),
])
def test_amounts_are_converted_to_yuan(text, yuan):
    ents = extract_entities(text)
    assert [e.entity for e in ents] == ["amount"]
    assert ents[0].extra["yuan"] == pytest.approx(yuan)
    assert money_to_yuan(text) == pytest.approx(yuan)


@pytest.mark.parametrize("text", [
    "招了两万人", "千万不要这样", "买了一块地", "十万亩茶园", "跑了三趟"])
def test_numbers_that_are_not_money(text):
    assert [e for e in extract_entities(text) if e.entity == "amount"] == []


def test_dates_absolute_and_relative():
    ents = {e.value: e.extra.get("iso") for e in extract_entities(
        "2026-11-26提交，3月5号到期，下个月再说，十一月底之前，2025年度")
        if e.entity == "date"}
    assert ents["2026-11-26"] == "2026-11-26"
    assert "3月5号" in ents and "下个月" in ents and "十一月底" in ents
    assert ents["2025年度"] == "2025"


def test_landline_and_mobile():
    kinds = {e.extra["kind"] for e in extract_entities("座机0570-1234567，手机13905701234")}
    assert kinds == {"landline", "mobile"}


def test_id_number_is_not_a_credit_code():
    ents = extract_entities("身份证号330102199001011234")
    assert [e.entity for e in ents] == ["id_number"]


def test_invalid_credit_code_is_kept_and_flagged():
    (ent,) = extract_entities("代码91110108551385082R")
    assert ent.entity == "credit_code" and ent.extra["valid"] is False


def test_pronouns_are_not_company_names():
    assert [e for e in extract_entities("我们厂在做轴承的厂子旁边") if e.entity == "company"] == []


def test_no_overlapping_entities():
    ents = extract_entities("联系13812345678或0570-1234567，金额500万元")
    spans = sorted((e.start, e.end) for e in ents)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_find_mobile_with_separators_and_is_mobile():
    from bot.entities import find_mobile, is_mobile

    assert find_mobile("手机 138-1234 5678 谢谢") == "13812345678"
    assert find_mobile("12345") is None and find_mobile("座机0570-1234567") is None
    assert is_mobile("13905701234") and not is_mobile("12905701234")
    assert not is_mobile("139057012345")
    # with the country code, as people copy it from their phone
    assert find_mobile("+86 139 0570 1234") == "13905701234"
    assert find_mobile("0086 139-0570-1234") == "13905701234"
    assert find_mobile("订单号8613905701234567") is None
