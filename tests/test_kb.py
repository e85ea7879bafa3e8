"""The policy knowledge base: reading documents, chunking, the index, search, matching."""

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.kb import tokens
from bot.kb.chunks import chunk
from bot.kb.corpus import Terms, lacking
from bot.kb.documents import DocumentError, PolicyDocument, load_document
from bot.kb.evaluate import Question, evaluate, load_questions
from bot.kb.index import KnowledgeBase
from bot.kb.matching import Profile, match_policies, qualifications_in
from bot.kb.ranking import subject

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "data" / "kb" / "policies"

DOC = """---
id: zj-demo-land
title: 工业用地“标准地”出让办法（示例）
issuer: 示例县人民政府
doc_no: 示例政发〔2024〕1号
date: 2024-01-15
url: https://example.gov.cn/land
domains: [project]
subtopics: [land_planning]
region: 龙游县
valid_until: 2030-12-31
benefit: 按“标准地”出让，拿地即可开工
eligibility: {size: [small, medium], qualifications: [规上工业企业]}
---
## 适用对象
在本县新出让的工业用地项目。

## 主要内容
出让前明确亩均投资、亩均税收、能耗、排放等控制性指标，企业拿地即可开工。
"""


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


# -- documents ---------------------------------------------------------------------------
def test_markdown_with_front_matter(tmp_path):
    doc = load_document(write(tmp_path, "x.md", DOC), tmp_path)
    assert (doc.id, doc.doc_no, doc.region, doc.valid_until) == (
        "zj-demo-land", "示例政发〔2024〕1号", "龙游县", date(2030, 12, 31))
    assert doc.domains == ("project",) and doc.eligibility["size"] == ["small", "medium"]
    assert [c.section for c in chunk(doc)] == ["适用对象", "主要内容"]


def test_plain_text_in_gbk_gets_its_stem_and_first_line(tmp_path):
    path = write(tmp_path, "export-rebate.txt", "出口退税办理说明\n正常退税3个工作日内办结。",
                 encoding="gbk")
    doc = load_document(path, tmp_path)
    assert (doc.id, doc.title) == ("export-rebate", "出口退税办理说明")
    assert "3个工作日" in doc.body


def test_html_headings_become_sections(tmp_path):
    html = ("<html><head><title>t</title><script>var x=1;</script></head><body>"
            "<h1>人才公寓申请指南</h1><h2>申请条件</h2><p>在本县工作的<b>高层次人才</b>。</p>"
            "<h2>办理渠道</h2><p>浙里办APP。</p></body></html>")
    doc = load_document(write(tmp_path, "talent.html", html), tmp_path)
    assert doc.title == "人才公寓申请指南" and "var x" not in doc.body
    assert [c.section for c in chunk(doc)] == ["申请条件", "办理渠道"]


def test_docx_paragraph_styles(tmp_path):
    import docx

    d = docx.Document()
    d.add_heading("首台套认定办法", level=1)
    d.add_heading("支持标准", level=2)
    d.add_paragraph("首台套产品给予一次性奖励。")
    d.save(tmp_path / "first-set.docx")
    doc = load_document(tmp_path / "first-set.docx", tmp_path)
    assert doc.title == "首台套认定办法"
    assert chunk(doc)[0].section == "支持标准" and "一次性奖励" in chunk(doc)[0].text


def test_pdf_text_layer_and_a_scan_without_one(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    with open(tmp_path / "scan.pdf", "wb") as out:
        writer.write(out)
    with pytest.raises(DocumentError, match="no text layer"):
        load_document(tmp_path / "scan.pdf", tmp_path)
    with pytest.raises(DocumentError, match="not a readable PDF"):
        load_document(write(tmp_path, "broken.pdf", "%PDF-1.4 garbage"), tmp_path)


@pytest.mark.parametrize("text,message", [
    ("---\nid: [unclosed\n---\n正文", "broken.md:2: malformed front matter"),
    ("---\nid: x\ndomains: [weather]\n---\n正文", "unknown domain id(s) weather"),
    ("---\nid: Bad Id\n---\n正文", "must be lowercase"),
    ("---\nid: x\n---\n", "no text after its front matter"),
    ("---\nid: x\nvalid_until: soon\n---\n正文", "valid_until must be a date"),
    ("---\nid: x\neligibility: {revenue: 5}\n---\n正文", "unknown eligibility condition"),
    ("", "the file is empty"),
])
def test_bad_documents_name_the_file_and_the_problem(tmp_path, text, message):
    with pytest.raises(DocumentError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_document(write(tmp_path, "broken.md", text), tmp_path)


def test_long_sections_are_cut_at_sentence_ends():
    body = "## 支持标准\n" + "。".join(f"第{i}条支持内容说明文字" for i in range(80)) + "。"
    doc = PolicyDocument(id="x", title="t", body=body, source="x.md", hash="h")
    pieces = chunk(doc, limit=200)
    assert len(pieces) > 3 and all(len(p.text) <= 200 for p in pieces)
    assert all(p.text.endswith("。") for p in pieces[:-1])


# -- the index ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    base = KnowledgeBase(tmp_path_factory.mktemp("kb"), create=True)
    report = base.ingest(POLICIES)
    assert not report.errors and len(report.added) >= 40
    yield base
    base.close()


def test_ingesting_again_is_incremental(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "a.md", DOC)
    write(folder, "b.txt", "出口退税办理说明\n正常退税3个工作日内办结。")
    base = KnowledgeBase(tmp_path / "kb", create=True)
    assert sorted(base.ingest(folder).added) == ["b", "zj-demo-land"]
    again = base.ingest(folder)
    assert sorted(again.unchanged) == ["b", "zj-demo-land"] and not again.added
    write(folder, "b.txt", "出口退税办理说明\n正常退税5个工作日内办结。")
    (folder / "a.md").unlink()
    write(folder, "c.md", "---\nid: [broken\n---\nx")
    report = base.ingest(folder)
    assert (report.updated, report.removed, len(report.errors)) == (["b"], ["zj-demo-land"], 1)
    assert "c.md" in report.errors[0]
    assert "5个工作日" in base.search("出口退税几天办结", refuse=False)[0]["passage"]
    base.close()


def test_the_glossary_file_format(tmp_path, monkeypatch, caplog):
    path = tmp_path / "glossary.txt"
    path.write_text("# comment 社保\n\n社会保险 社保 五險\n医疗保险 医保 社保\n", encoding="utf-8")
    monkeypatch.setattr(tokens, "GLOSSARY", path)
    tokens.glossary.cache_clear()
    try:
        assert tokens.glossary() == {"社会保险": "社会保险", "社保": "社会保险",
                                     "五险": "社会保险",  # normalised like the questions
                                     "医疗保险": "医疗保险", "医保": "医疗保险"}
        assert "'社保' is already in the group of '社会保险'" in caplog.text
    finally:
        tokens.glossary.cache_clear()


def test_a_changed_glossary_rebuilds_the_whole_index(tmp_path, monkeypatch):
    folder = tmp_path / "docs"
    write(folder, "a.md", DOC)
    write(folder, "b.txt", "出口退税办理说明\n正常退税3个工作日内办结。")
    base = KnowledgeBase(tmp_path / "kb", create=True)
    base.ingest(folder)
    assert sorted(base.ingest(folder).unchanged) == ["b", "zj-demo-land"]
    monkeypatch.setattr(tokens, "fingerprint", lambda: "another-glossary")
    report = base.ingest(folder)
    assert sorted(report.updated) == ["b", "zj-demo-land"] and not report.unchanged
    assert sorted(base.ingest(folder).unchanged) == ["b", "zj-demo-land"]
    base.close()


def test_a_duplicate_id_is_an_error_and_the_first_file_wins(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "a.md", DOC)
    write(folder, "b.md", DOC)
    base = KnowledgeBase(tmp_path / "kb", create=True)
    report = base.ingest(folder)
    assert report.added == ["zj-demo-land"] and "duplicate id 'zj-demo-land'" in report.errors[0]
    base.close()


def test_a_question_is_answered_with_the_right_document_and_citation(kb):
    hits = kb.search("我们研发花了五百万能多扣多少", top_k=3)
    top = hits[0]
    assert top["doc_id"] == "tech-rd-super-deduction-2023" and top["section"] == "支持标准"
    assert top["doc_no"] == "财政部 税务总局公告2023年第7号"
    # the answer states what was asked: how much more is deducted
    assert ("100%" in top["answer"] or "多扣除500万元" in top["answer"]) and not top["expired"]


def test_the_callers_company_and_phone_do_not_make_a_question_unanswerable(kb):
    plain = kb.search("研发费用加计扣除不知道怎么申报，比例是多少")
    called = kb.search("龙游县恒丰纸业有限公司反映研发费用加计扣除不知道怎么申报，比例是多少，"
                       "联系电话13912345678")
    assert called and called[0]["doc_id"] == plain[0]["doc_id"] in (
        "tech-rd-super-deduction-2023", "tech-rd-deduction-scope-2015")
    assert subject("电话13912345678，代码91330825MA28F3BX4T") == "电话 ,代码 "
    # legal forms are stop words; a kind of company is still a subject
    assert "有限责任公司" not in tokens.Text("恒丰纸业有限公司").words
    assert "一人有限责任公司" in tokens.Text("一人有限公司怎么注册").terms


def test_traditional_characters_and_typos(kb):
    assert kb.search("研發費用加計扣除比例是多少")[0]["doc_id"] == "tech-rd-super-deduction-2023"
    assert kb.search("研发费用加记扣除比例是多少")[0]["doc_id"] == "tech-rd-super-deduction-2023"


@pytest.mark.parametrize("question", ["今天天气怎么样", "讲个笑话听听呗", "比特幣還會漲嗎",
                                      "", "？？？"])
def test_nothing_answers_chatter(kb, question):
    assert kb.search(question) == []


def _doc_terms(text: str) -> Terms:
    t = tokens.Text(text)
    return Terms(set(t.words), set(t.surface_grams))


def test_what_a_document_lacks_of_the_question():
    doc = _doc_terms("社会保险（社保）费率 单位缴纳基本养老保险的比例 缴费基数 按月领取养老金")

    def lacks(question):
        return lacking(tokens.Text(question).nouns, doc)
    assert lacks("住房公积金单位要交多少") == {"住房公积金"}
    assert lacks("排污许可证要怎么申领") == {"排污许可证"}
    # a typo (杨老金) still matches 养老金 by its bigrams; verbs and fillers do not count
    assert lacks("社保交满15年以后还够不够领杨老金") == set()


def test_the_glossary_keeps_terms_whole_and_maps_aliases_to_the_official_term():
    question = tokens.Text("高企认定以后，个税和公积金怎么交")
    assert "高新技术企业认定" in question.words and "住房公积金" in question.words
    assert question.terms[:1] == ["高新技术企业认定"]
    assert "个人所得税" in question.terms and "住房公积金" in question.terms
    # a term stays one word instead of four
    assert "技术先进型服务企业" in tokens.Text("技术先进型服务企业怎么认定").words
    # the document side is mapped the same way, so an alias finds the official wording
    doc = _doc_terms("职工基本医疗保险单位缴费比例")
    assert lacking(tokens.Text("医保单位交多少").terms, doc) == set()
    assert lacking(tokens.Text("公积金单位交多少").terms, doc) == {"住房公积金"}


def test_nouns_are_those_jieba_posseg_tags(settings):
    """``Text.nouns`` looks words up in one set of noun words instead of loading
    ``jieba.posseg`` (about 90 MB per process); on the knowledge base's evaluation
    questions and the held-out messages it finds exactly what posseg tags."""
    import jieba.posseg

    from bot.examples import load_test_file

    questions = [q.q for f in sorted((ROOT / "data" / "kb").glob("questions*.yml"))
                 for q in load_questions(f)]
    texts = questions + [e.text for e in load_test_file(settings.heldout_file)]
    assert len(texts) > 500
    ours = [tokens.Text(t).nouns for t in texts]
    tagger = jieba.posseg.POSTokenizer(tokens._jieba.__wrapped__())  # a tokenizer of its own
    official = tokens.glossary()
    for text, nouns in zip(texts, ours, strict=True):
        tagged = [official.get(w, w) for w, tag in tagger.lcut(tokens.Text(text).clean,
                                                                HMM=False)
                  if len(w) > 1 and w not in tokens.STOPWORDS
                  and tag.startswith(("n", "vn", "eng")) and tokens._LETTERS.search(w)]
        assert nouns == tagged, text


def test_expired_documents_are_marked_and_ranked_below_current_ones(kb):
    hits = kb.search("小规模纳税人增值税免征政策", top_k=5, today=date(2026, 11, 26))
    ids = [h["doc_id"] for h in hits]
    assert "policy-vat-small-scale-2023" in ids
    expired = [h for h in hits if h["doc_id"] == "policy-vat-small-scale-exempt-2022"]
    assert expired and expired[0]["expired"]
    assert ids.index("policy-vat-small-scale-2023") < ids.index(expired[0]["doc_id"])
    # on a day before it ended, the same document is current
    then = kb.search("小规模纳税人增值税免征政策", top_k=5, today=date(2022, 6, 1))
    assert not [h for h in then if h["doc_id"] == expired[0]["doc_id"]][0]["expired"]


def test_local_policies_of_the_users_region_come_first(kb):
    q = "小微企业融资担保费率能降吗"
    local = kb.search(q, top_k=5, region="龙游县")
    elsewhere = kb.search(q, top_k=5, region="杭州市上城区")

    def place(hits):  # (rank, score) of Quzhou's own guarantee policy
        ids = [h["doc_id"] for h in hits]
        i = ids.index("finance-qz-guarantee-reform-2021")
        return i, hits[i]["score"]
    assert place(local)[0] <= place(elsewhere)[0]
    assert place(local)[1] > place(kb.search(q, top_k=5))[1] > place(elsewhere)[1]
    # a full name counts as its county: Hangzhou's Shangcheng district is not Quzhou
    assert [h["score"] for h in kb.search(q, top_k=5, region="上城区")] == \
        [h["score"] for h in elsewhere]


def test_evaluation_counts_hits_and_refusals(kb):
    result = evaluate(kb, [
        Question("研发费用加计扣除比例是多少", ("tech-rd-super-deduction-2023",)),
        Question("讲个笑话听听呗", ()), Question("今天天气怎么样", ())])
    assert (result["n"], result["hit_at_1"], result["mrr"], result["refusal_rate"]) == (
        3, 1.0, 1.0, 1.0)


# -- policy matching -----------------------------------------------------------------------
def test_matching_reports_met_missing_and_unknown_conditions(tmp_path):
    doc = load_document(write(tmp_path, "x.md", DOC), tmp_path).meta()
    (m,) = match_policies([doc], Profile(region="龙游县", size="small",
                                         qualifications=frozenset({"规上工业企业"})))
    assert m.eligible and m.met == ["适用地区：龙游县", "具备“规上工业企业”资格",
                                    "企业规模为小型、中型企业"]
    (m,) = match_policies([doc], Profile(region="龙游县"))
    assert m.missing == ["具备“规上工业企业”资格"] and m.unknown == ["企业规模为小型、中型企业"]
    assert match_policies([doc], Profile(region="杭州市上城区")) == []  # another county's
    assert match_policies([doc], Profile(region="龙游县"), today=date(2031, 1, 1)) == []


def test_qualification_names_and_short_forms():
    assert qualifications_in("我们是高企，也是专精特新") == {"高新技术企业", "专精特新中小企业"}
    assert qualifications_in("国家级小巨人") == {'专精特新"小巨人"企业'}
    assert qualifications_in("都没有") == frozenset()


# -- the command line ----------------------------------------------------------------------
def govbot(*args):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_cli_ingest_reports_errors_and_still_ingests_the_rest(tmp_path):
    folder = tmp_path / "docs"
    write(folder, "good.md", DOC)
    write(folder, "broken.md", "---\nid: [unclosed\n---\n正文")
    p = govbot("kb", "ingest", str(folder), "--kb", str(tmp_path / "kb"))
    assert p.returncode == 1 and "broken.md:2" in p.stderr and "1 added" in p.stdout
    p = govbot("kb", "search", "标准地出让前要明确亩均税收这些指标吗", "--kb",
               str(tmp_path / "kb"), "--json")
    assert p.returncode == 0 and json.loads(p.stdout)[0]["doc_id"] == "zj-demo-land"
    p = govbot("kb", "search", "x", "--kb", str(tmp_path / "none"), "--json")
    assert p.returncode == 2 and "no knowledge base" in p.stderr


def test_the_scope_model_tells_enterprise_questions_from_chatter(settings):
    from bot.kb.scope import CACHE_NAME, scope_model

    in_scope = scope_model(settings)
    assert in_scope("过桥资金到期银行不续贷怎么办") > 0.8
    assert in_scope("研發費用加計扣除比例是多少") > 0.8
    assert in_scope("讲个笑话听听") < 0.3 and in_scope("今晚吃什么好呢") < 0.3
    assert (settings.models_dir / CACHE_NAME).exists()  # cached for the next process
    assert scope_model(settings)("讲个笑话听听") == in_scope("讲个笑话听听")


def test_scope_evidence_refuses_chatter(kb, settings):
    from bot.kb.scope import scope_model

    kb.scope = scope_model(settings)
    try:
        for question in ("減肥期間晚飯吃什麼比較好", "茅台现在能抄底吗，给推荐几个股票",
                         "帮我写首诗夸夸我们老板"):
            assert kb.search(question) == [], question
        assert kb.search("研发费用加计扣除比例是多少")[0]["doc_id"] == \
            "tech-rd-super-deduction-2023"
    finally:
        kb.scope = None


def test_the_scope_scorer_gives_the_fitted_pipelines_probability(settings):
    from bot.kb.scope import CACHE_NAME, load_cache, scope_model
    from bot.text import normalize

    in_scope = scope_model(settings)
    pipeline = load_cache(settings.models_dir / CACHE_NAME)["model"]
    for text in ("今天天气怎么样", "我们研发花了五百万能多扣多少", "研發費用加計扣除", "",
                 "ABC 123", "过桥资金过桥资金过桥"):
        expected = pipeline.predict_proba([normalize(text).text])[0, 1]
        assert in_scope(text) == pytest.approx(expected, abs=1e-9), text


def test_the_exported_no_answer_model_gives_scikit_learns_probabilities(tmp_path):
    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier

    from bot.kb.refusal import FEATURES, RefusalModel, export

    rng = np.random.default_rng(0)
    X = rng.random((300, len(FEATURES)))
    y = (X[:, 0] + X[:, 3] - X[:, 7] + rng.normal(0, 0.3, 300) > 0.5).astype(int)
    fitted = [GradientBoostingClassifier(n_estimators=20, max_depth=2, subsample=0.8,
                                         random_state=seed).fit(X, y) for seed in (0, 1)]
    path = tmp_path / "model.json"
    path.write_text(json.dumps(export(fitted)))
    model = RefusalModel.load(path)
    expected = 1 / (1 + np.exp(-np.mean([m.decision_function(X[:50]) for m in fitted], axis=0)))
    for x, p in zip(X[:50], expected, strict=True):
        assert model.probability(x) == pytest.approx(p, abs=1e-9)
    single = RefusalModel.load(_saved(tmp_path, export(fitted[:1])))
    assert single.probability(X[0]) == pytest.approx(fitted[0].predict_proba(X[:1])[0, 1])
    with pytest.raises(ValueError, match="evidence features"):
        model.probability(X[0][:3])


def _saved(folder: Path, raw: dict) -> Path:
    path = folder / "single.json"
    path.write_text(json.dumps(raw))
    return path


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    from bot.kb.refusal import RefusalModel

    path = tmp_path / "old.json"
    path.write_text(json.dumps({"features": ["a", "b"], "init": 0, "learning_rate": 0.1,
                                "trees": []}))
    with pytest.raises(ValueError, match="refit"):
        RefusalModel.load(path)


def test_the_evidence_is_a_named_record_in_the_models_order(kb):
    """``KnowledgeBase.evidence`` fills each number by name; the no-answer model reads them
    in the order of the names it was fitted on."""
    from bot.kb.refusal import FEATURES, MODEL_FILE, Evidence, RefusalModel

    q = tokens.Text("研发费用加计扣除比例是多少")
    hits = kb.search(q.clean, refuse=False)
    evidence = kb.evidence(q, hits, hits[0]["passage_id"])
    assert isinstance(evidence, Evidence) and evidence._fields == FEATURES
    assert all(0.0 <= x <= 1.0 for x in evidence)
    assert RefusalModel.load(MODEL_FILE).features == FEATURES
    empty = kb.evidence(tokens.Text("讲个笑话"), [], None)
    assert empty.passage_word_coverage == 0.0 and empty.scope == 1.0


def test_the_tuning_bench_sees_the_evidence_the_search_judged(kb):
    """``search_evidence`` (what bench/kb_tuning.py fits the no-answer model on) is the
    evidence ``search`` itself gave the model: the same question preparation, the same
    passage — so the model's confidence in the hits follows from it."""
    for question in ("喂你好，我们是龙游的企业，想问一下研发费用加计扣除比例是多少",
                     "小型微利企业所得税怎么优惠", "讲个笑话"):
        hits = kb.search(question, refuse=False)
        features = kb.search_evidence(question)
        if not hits:
            assert features is None
            continue
        searched = [h for h in hits if "document_confidence" in h]  # not a standard answer
        assert searched
        assert searched[0]["document_confidence"] == round(kb.refusal.probability(features), 3)
