"""Policy answers a user can act on: the asked fact in the shown text, standard questions,
follow-up questions, currency notices, the answer-level evaluation."""

from datetime import date
from pathlib import Path

import pytest

from actions.policy import answer_text, related
from bot.kb.answer import ask_of, leans_on_answer
from bot.kb.evaluate import Question, evaluate, load_questions, states
from bot.kb.index import KnowledgeBase
from bot.kb.matching import Profile, match_policies
from bot.kb.review import review_list

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "data" / "kb" / "policies"

HIGHTECH = """---
id: demo-hightech
title: 示例高新技术企业认定办法
issuer: 示例科技局
doc_no: 示例科〔2024〕3号
date: 2024-03-01
domains: [tech]
region: 全国
benefit: 减按15%的税率缴纳企业所得税
apply_by: 2030-06-30
eligibility: {size: [small, medium]}
---
## 办理流程
企业登录认定管理网站注册并在线填报申请材料。专家评审后，认定结果在网上公示10个工作日。

## 申请条件
申请认定的企业须注册成立一年以上。企业近三个会计年度研究开发费用总额占同期销售收入总额的比例不低于5%。科技人员占企业当年职工总数的比例不低于10%。

## 支持标准
认定为高新技术企业的，减按15%的税率缴纳企业所得税。高新技术企业资格自颁发证书之日起有效期为三年。

## 申报材料
申请时需提交认定申请书、营业执照复印件、知识产权证明和研究开发费用专项审计报告。
"""
PENALTY_LIST = """---
id: demo-negative-list
title: 示例外商投资准入负面清单
issuer: 示例发展改革委
date: 2024-09-06
domains: [open]
eligibility: {size: [small]}
---
## 适用对象
负面清单之内的领域，外国投资者不得投资。
"""
OLD_RULES = """---
id: demo-old-rules
title: 示例梯度培育暂行办法
issuer: 示例经信局
date: 2022-06-01
domains: [policy]
valid_until: 2026-01-31
superseded_by: demo-new-rules
---
## 申请条件
专精特新中小企业上年度研发费用总额不低于100万元。
"""
NEW_RULES = """---
id: demo-new-rules
title: 示例梯度培育管理办法
issuer: 示例经信局
doc_no: 示例经信〔2026〕1号
date: 2026-01-15
domains: [policy]
---
## 申请条件
申请条件以修订后的办法为准。
"""
FAQ = """version: 1
faq:
  - id: demo-hightech-rate
    q: 高新技术企业所得税税率是多少
    similar: [高企税率多少, 高新企业所得税按几个点交]
    a: 认定为高新技术企业的，减按15%的税率缴纳企业所得税。
    doc: demo-hightech
    section: 支持标准
  - id: demo-broken
    q: 一个引用不存在章节的问答
    a: 不会被收录。
    doc: demo-hightech
    section: 不存在的章节
"""


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def demo(tmp_path):
    folder = tmp_path / "docs"
    for name, text in (("hightech.md", HIGHTECH), ("negative.md", PENALTY_LIST),
                       ("old.md", OLD_RULES), ("new.md", NEW_RULES), ("faq/demo.yml", FAQ)):
        write(folder, name, text)
    kb = KnowledgeBase(tmp_path / "kb", create=True)
    report = kb.ingest(folder)
    kb.report = report
    yield kb
    kb.close()


# -- what a question asks, and the sentence that answers it -------------------------------
@pytest.mark.parametrize("question, kind", [
    ("高企认定要满足哪些条件", "conditions"), ("加计扣除比例是多少", "amount"),
    ("申报要准备什么材料", "materials"), ("多久能批下来", "deadline"),
    ("去哪个部门办", "where"), ("怎么申请", "procedure"), ("介绍一下这个政策", None)])
def test_what_a_question_asks(question, kind):
    assert ask_of(question).main == kind


def test_the_answer_is_the_section_and_sentence_holding_the_asked_fact(demo):
    def answer(question):
        return next(h for h in demo.search(question, refuse=False)
                    if h["doc_id"] == "demo-hightech")
    conditions = answer("高新技术企业认定要满足哪些条件")
    assert conditions["section"] == "申请条件" and conditions["answer"].startswith("申请认定的企业")
    ratio = answer("高企研发费用占销售收入的比例要多少")
    assert "研究开发费用总额占同期销售收入总额的比例不低于5%" in ratio["answer"]
    validity = answer("高新技术企业资格有效期几年")
    assert "有效期为三年" in validity["answer"]
    papers = answer("申请高新技术企业认定要交什么材料")
    assert papers["section"] == "申报材料" and "专项审计报告" in papers["answer"]


# -- standard questions -----------------------------------------------------------------
def test_a_standard_question_gets_its_curated_answer_first(demo):
    assert demo.report.faq == 1
    assert any("不存在的章节" in e for e in demo.report.errors)  # reported, left out
    top = demo.search("高企所得税税率是多少呀")[0]
    assert top["faq_id"] == "demo-hightech-rate" and top["section"] == "支持标准"
    assert top["answer"] == "认定为高新技术企业的，减按15%的税率缴纳企业所得税。"
    # the same words asking another kind of fact are not that question
    assert demo.search("高新技术企业所得税税率怎么申请", refuse=False)[0].get("faq_id") is None


# -- follow-up questions ----------------------------------------------------------------
@pytest.mark.parametrize("question, leaning", [
    ("要什么材料", "no topic"), ("去哪里办", "no topic"), ("那小微企业呢", "says so"),
    ("制造业企业和其他企业一样吗", "says so"), ("小规模纳税人增值税怎么交", None),
    ("另外问一下高企的认定条件和研发费用", None)])
def test_a_follow_up_question_is_recognised(question, leaning):
    assert leans_on_answer(question) == leaning


def test_a_follow_up_is_answered_from_the_policy_in_the_conversation(demo):
    after = {"doc_id": "demo-hightech", "question": "高企认定要满足哪些条件"}
    papers = demo.search("要什么材料", after=after)[0]
    assert (papers["doc_id"], papers["section"], papers["follow_up"]) == (
        "demo-hightech", "申报材料", True)
    validity = demo.search("有效期几年", after=after)[0]
    assert validity["doc_id"] == "demo-hightech" and "三年" in validity["answer"]
    # a new topic is a new question
    new = demo.search("外国投资者哪些领域不能投资", after=after, refuse=False)[0]
    assert new["doc_id"] == "demo-negative-list" and not new.get("follow_up")


# -- what is shown ------------------------------------------------------------------------
def test_a_replaced_document_says_so_and_names_its_successor(demo):
    hits = demo.search("梯度培育专精特新研发费用要多少", refuse=False, today=date(2026, 12, 4))
    old = next(h for h in hits if h["doc_id"] == "demo-old-rules")
    assert old["expired"] and old["successor"]["title"] == "示例梯度培育管理办法"
    text = answer_text([old])
    assert text.startswith("注意：该文件已被《示例梯度培育管理办法》（示例经信〔2026〕1号）取代")


def test_a_refused_question_about_an_ended_policy_names_it_without_its_figures(monkeypatch):
    import actions.policy as policy

    hit = {"doc_id": "old", "title": "示例暂行办法", "doc_no": "示例〔2022〕1号", "issuer": "",
           "date": "2022-06-01", "expired": True, "valid_until": "2025-12-31",
           "superseded_by": None, "successor": None, "confidence": 0.3}

    class Found:
        def __init__(self, hits):
            self.hits = hits

        def search(self, *args, **kwargs):
            return self.hits

    monkeypatch.setattr(policy, "knowledge_base", lambda: Found([hit]))
    assert policy.stale_policy("2022年的暂行办法还能用吗", None) is hit
    monkeypatch.setattr(policy, "knowledge_base", lambda: Found([{**hit, "confidence": 0.1}]))
    assert policy.stale_policy("2022年的暂行办法还能用吗", None) is None  # too far off
    monkeypatch.setattr(policy, "knowledge_base", lambda: Found([{**hit, "expired": False}]))
    assert policy.stale_policy("现行办法怎么规定", None) is None  # current: a plain refusal


def test_related_documents_are_relevant_and_never_the_answered_one():
    top = {"doc_id": "a", "score": 1.0, "coverage": 0.9, "confidence": 0.9}
    same = {**top, "score": 0.95}
    weak = {"doc_id": "b", "score": 0.5, "coverage": 0.9, "confidence": 0.9}
    close = {"doc_id": "c", "score": 0.9, "coverage": 0.7, "confidence": 0.9}
    assert related([top, same, weak]) == [] and related([top, close]) == [close]


# -- policy matching ----------------------------------------------------------------------
def test_matching_offers_only_documents_that_grant_something(demo):
    matches = match_policies(demo.documents(), Profile(region="龙游县", size="small"),
                             today=date(2026, 12, 4))
    assert [m.doc["id"] for m in matches] == ["demo-hightech"]  # not the negative list
    view = matches[0].view()
    assert view["benefit"] == "减按15%的税率缴纳企业所得税" and view["deadline"] == "2030-06-30"


# -- the answer-level evaluation -----------------------------------------------------------
def test_facts_decide_whether_an_answer_is_right(demo):
    assert states("减按15%的税率", (("15%", "百分之十五"),)) and not states("税率", (("15%",),))
    result = evaluate(demo, [
        Question("高新技术企业资格有效期几年", ("demo-hightech",), (("三年",),)),
        Question("高新技术企业资格有效期几年", ("demo-hightech",), (("五年",),)),
        Question("今天天气怎么样", ())])
    assert (result["answer_accuracy"], result["wrong_answer_rate"]) == (0.5, 0.5)
    assert result["wrong_answers"][0]["facts"] == [["五年"]]


@pytest.mark.parametrize("name", ["questions", "questions_holdout"])
def test_every_fact_of_the_question_sets_is_in_its_document(name):
    """A fact that no expected document states could never be answered right."""
    bodies = {p.stem: p.read_text(encoding="utf-8").split("---", 2)[-1]
              for p in POLICIES.glob("*.md")}
    for q in load_questions(ROOT / "data" / "kb" / f"{name}.yml"):
        for group in q.facts:
            assert any(alt in bodies.get(d, "") for d in q.expect for alt in group), (q.q, group)


# -- currency -------------------------------------------------------------------------------
def test_documents_past_their_dates_are_never_answered_as_current(tmp_path):
    """Every sample document that expired or was replaced is marked when it answers."""
    kb = KnowledgeBase(tmp_path / "kb", create=True)
    kb.ingest(POLICIES)
    today = date(2026, 12, 4)
    stale = review_list(kb.documents(), today)
    assert stale, "the sample knowledge base has expired documents"
    for item in stale:
        if item["reason"] not in ("expired", "superseded"):
            continue  # not marked by the answer: listed for an editor to fix
        meta = next(d for d in kb.documents() if d["id"] == item["doc_id"])
        hits = kb.search(meta["title"], top_k=5, refuse=False, today=today)
        hit = next((h for h in hits if h["doc_id"] == meta["id"]), None)
        if hit is not None:
            assert answer_text([hit]).startswith("注意："), meta["id"]
    kb.close()
