"""The trained model: parse shape, normalisation at work, bad input."""

import pytest

from bot.taxonomy import taxonomy


def test_parse_has_domain_ranking_and_subtopic(parser):
    raw = parser.parse_raw("我们厂的过桥资金下个月到期，银行说不续贷了")
    assert raw["intent"]["name"] == "report_need"
    assert raw["domain"]["name"] == "finance"
    assert raw["subtopic"]["name"] == "bridge_loan"
    ranking = raw["domain_ranking"]
    assert [r["name"] for r in ranking][0] == "finance"
    assert {r["name"] for r in ranking} == set(taxonomy().domains)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-6)
    assert 0 <= raw["subtopic"]["confidence"] <= 1


def test_subtopic_always_belongs_to_domain(parser):
    tax = taxonomy()
    for text in ("二期的地还没摘牌", "客户拖了我们八十多万货款一直不给",
                 "外籍工程师的工作许可怎么办", "研发费用加计扣除比例是多少",
                 "公司社保卡丢了怎么补"):
        view = parser.parse(text)
        assert tax.domain_of(view["subtopic"]["name"]) == view["domain"]["name"], text


def test_non_demand_messages_have_no_domain(parser):
    for text in ("你好", "谢谢", "我的工单处理到哪一步了", "今天杭州天气怎么样"):
        view = parser.parse(text)
        assert view["domain"] == {"name": None, "confidence": None}, text
        assert view["subtopic"]["name"] is None


def test_traditional_and_simplified_get_the_same_reading(parser):
    simp = parser.parse("员工子女入学的问题能帮忙协调吗")
    trad = parser.parse("員工子女入學的問題能幫忙協調嗎")
    assert simp["subtopic"]["name"] == trad["subtopic"]["name"] == "children_schooling"


def test_text_and_entity_spans_refer_to_the_original_message(parser):
    text = "  我们在衢州　龍游縣，　貸款５００万元下个月到期  "
    raw = parser.parse_raw(text)
    assert raw["text"] == text.strip()  # Rasa strips messages; nothing else changes
    assert raw["text_normalized"].startswith("我们在衢州 龙游县")
    view = parser.parse(text)  # what classify prints: spans into the line as given
    assert view["text"] == text
    for ent in view["entities"]:
        assert ent["start"] < ent["end"]
    spans = {e["entity"]: text[e["start"]:e["end"]] for e in view["entities"]}
    assert spans["amount"] == "５００万元"
    assert any(text[e["start"]:e["end"]] == "龍游縣" for e in view["entities"]
               if e["entity"] == "region")


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "😀😀😀", "\x00\x01\x02", "！！？？"])
def test_messages_without_words_are_out_of_scope(parser, text):
    view = parser.parse(text)
    assert view["intent"]["name"] == "out_of_scope"
    assert view["domain"]["name"] is None


def test_a_10000_character_message_is_cut_before_nlu(parser):
    raw = parser.parse_raw("我们企业融资很难" * 1250)
    assert raw["text_truncated"] is True
    assert len(raw["text_normalized"]) == 5000
    assert raw["intent"]["name"]


@pytest.mark.parametrize("text", ["What is the weather like in Hangzhou today?",
                                  "asdfghjkl qwerty", "帮我写一首关于秋天的诗"])
def test_off_topic_is_not_forced_into_a_domain(parser, text):
    view = parser.parse(text)
    assert view["intent"]["name"] == "out_of_scope", view
    assert view["domain"]["name"] is None


def test_mixed_scripts_do_not_crash(parser):
    view = parser.parse("我们公司的ERP系统要上云，有没有subsidy？🙏")
    assert view["intent"]["name"] in {"report_need", "ask_policy"}
    assert view["subtopic"]["name"] == "digital_transformation"
