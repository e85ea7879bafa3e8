"""Policy questions and policy matching end to end through the REST channel."""

import uuid

from conftest import say, texts
from sqlalchemy import create_engine, select

from bot.db.schema import kb_feedback, kb_gaps


def test_a_follow_up_question_is_answered_from_the_policy_just_answered(services):
    sender = uuid.uuid4().hex
    (first,) = say(services, sender, "高新技术企业认定要满足哪些条件")
    assert "高新技术企业认定管理办法" in first["text"]
    follow = texts(say(services, sender, "研发费用占比要求是多少"))
    assert "高新技术企业认定管理办法" in follow and "5%" in follow


def test_an_answer_with_citation_and_feedback_is_stored(services):
    sender = uuid.uuid4().hex
    (answer,) = say(services, sender, "研发费用加计扣除比例是多少")
    assert answer["text"].startswith("根据《关于进一步完善研发费用税前加计扣除政策的公告》")
    assert "财政部 税务总局公告2023年第7号" in answer["text"] and "100%" in answer["text"]
    assert [b["title"] for b in answer["buttons"]] == ["有帮助", "没帮助"]
    assert "感谢您的反馈" in texts(say(services, sender, '/kb_feedback{"helpful":"yes"}'))
    engine = create_engine(services.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(kb_feedback).where(
            kb_feedback.c.sender_id == f"rest:{sender}")).all()
    assert [(r.doc_id, r.helpful) for r in rows] == [("tech-rd-super-deduction-2023", True)]


def test_unanswered_questions_become_knowledge_gaps(services):
    sender = uuid.uuid4().hex
    assert "政策库里暂时没有" in texts(say(services, sender, "北交所上市对净利润有啥硬性要求"))
    engine = create_engine(services.database_url)
    with engine.connect() as conn:
        questions = [r.question for r in conn.execute(select(kb_gaps).where(
            kb_gaps.c.sender_id == f"rest:{sender}"))]
    assert questions == ["北交所上市对净利润有啥硬性要求"]


def test_policy_matching_conversation(services):
    sender = uuid.uuid4().hex
    assert "哪个县" in texts(say(services, sender, "我们公司能享受哪些政策"))
    assert "规模" in texts(say(services, sender, "衢州龙游"))
    assert "请回复" in texts(say(services, sender, "嗯"))  # not a size: asked again
    assert "资格" in texts(say(services, sender, "我们厂80个人"))
    listing = texts(say(services, sender, "我们是高企"))
    assert "根据贵企业情况（龙游县，小型企业，资格：高新技术企业）" in listing
    assert "【条件已满足，可以申请】" in listing
    # each with what it grants: small firms' loan renewal, 新贷还旧贷
    assert "《关于做好续贷工作 提高小微企业金融服务水平的通知》" in listing
    assert "衢政办发〔2021〕23号" not in listing  # ended in 2023: not offered
    assert "负面清单" not in listing  # a negative list grants nothing
    assert "企业服务智能助手" in texts(say(services, sender, "你好"))  # the dialogue goes on
