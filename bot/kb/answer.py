"""What a policy question asks, and the sentences of a passage that answer it.

A user reads one short text, so retrieval finding the right document is not enough:
the shown answer must hold the asked fact. A question asks for conditions, a rate or
amount, a procedure, materials, a time limit, a place or department — or just yes or
no. Each kind prefers the sections that hold it (``支持标准`` for a rate) and the
sentences that state it (a figure with 万元 or %). The answer is the best sentence
with the ones after it (then before it) that fit, not the top of the section.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.kb import tokens

#: what a question asks → the words that say so (checked on the cleaned question)
ASK_CUES: dict[str, tuple[str, ...]] = {
    "materials": ("材料", "资料", "证件", "带什么", "带哪些", "提交什么", "提交哪些", "准备什么",
                  "准备哪些", "要交什么", "交哪些", "什么手续", "哪些手续", "要啥"),
    "where": ("哪里", "哪个部门", "哪些部门", "找谁", "去哪", "在哪", "哪儿", "什么部门",
              "窗口", "网站", "电话", "热线", "哪个单位", "归谁", "哪一级", "谁管", "谁负责",
              "哪家", "什么平台", "哪个平台", "线上", "网上"),
    "deadline": ("多久", "多长时间", "几天", "几个工作日", "期限", "时限", "截止", "什么时候",
                 "有效期", "几年", "到期", "何时", "哪一年", "哪年", "多少天", "多少个工作日",
                 "时间", "几号", "几月", "延期", "延续", "期满", "多长"),
    "procedure": ("流程", "怎么办", "如何办", "怎么申请", "如何申请", "怎么申报", "如何申报",
                  "步骤", "程序", "怎么弄", "咋办", "咋弄", "办理方式", "怎么享受", "如何享受",
                  "怎么操作", "如何操作", "怎么走", "怎么做", "咋申请", "怎么报", "怎么登记",
                  "如何登记", "怎么办理", "如何办理", "怎么认定", "怎么备案", "怎么续"),
    "amount": ("多少", "几成", "比例", "税率", "费率", "征收率", "补贴标准", "补助标准", "金额",
               "额度", "上限", "最高", "几个点", "百分之", "减多少", "免多少", "能拿", "奖励",
               "补多少", "给多少", "罚多少", "扣多少", "怎么算", "如何计算", "怎么计算", "标准是",
               "几倍", "多大", "倍数", "利率", "贴息", "咋算", "怎么补", "补多少", "怎么赔",
               "赔多少", "赔偿", "补偿", "赔啥", "赔什么", "罚啥", "补啥"),
    "conditions": ("条件", "资格", "要求", "哪些企业", "什么企业", "哪类", "什么样的",
                   "能不能享受", "可以享受", "能享受", "符合", "够不够", "能申请", "可以申请",
                   "适用", "范围", "门槛", "算不算", "属不属于", "能不能申请", "有没有资格",
                   "谁可以", "哪些人", "什么人"),
}
#: the section names that hold each kind of fact (matched as substrings)
ASK_SECTIONS: dict[str, tuple[str, ...]] = {
    "materials": ("材料",),
    "where": ("地点", "部门", "受理", "咨询", "渠道", "窗口"),
    "deadline": ("时限", "期限", "有效期", "时间"),
    "amount": ("标准", "优惠内容", "支持内容", "补贴", "计算", "收费", "税率", "比例", "处罚"),
    "procedure": ("流程", "程序", "如何", "办理方式", "步骤"),
    "conditions": ("适用", "条件", "对象", "范围", "认定标准"),
}
#: the sentences that state each kind of fact
ASK_SENTENCES: dict[str, re.Pattern[str]] = {
    "materials": re.compile(r"材料|证明|复印件|申请表|申请书|合同|营业执照|身份证|报告|清单|资料"),
    "where": re.compile(r"局|部门|窗口|中心|网站|平台|热线|123\d\d|政务服务网|浙里办|机关|委员会|"
                        r"办事处|银行|公司"),
    "deadline": re.compile(r"\d+\s*(?:个)?(?:工作日|日|天|个月|月|年)|[一二三四五六七八九十两]+"
                           r"(?:个)?(?:工作日|日|天|个月|年)|日前|日起|以内|内|有效期|期限|届满"),
    "amount": re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|万元|亿元|元|倍|万|‰)|百分之|减半|免征|"
                         r"全额|减按|税率|征收率|比例|[一二三四五六七八九十两]+倍"),
    "procedure": re.compile(r"申请|提交|审核|审批|登录|填报|申报|办理|受理|先|然后|之后|网上"),
    "conditions": re.compile(r"条件|符合|满足|不超过|不低于|以上|以下|具备|适用|对象|应当|须|"
                             r"属于|范围|不得"),
}
#: a sentence starting so leans on the one before it
_LEANS_BACK = re.compile(r"^(?:该|这|其|此|上述|前述|同时|但|但是|其中|对此|为此|另外|此外|以上)")
_SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")
ANSWER_CHARS = 300


@dataclass(frozen=True)
class Ask:
    """What a question asks for, most specific first (``()`` for "tell me about")."""

    kinds: tuple[str, ...]

    @property
    def main(self) -> str | None:
        return self.kinds[0] if self.kinds else None

    def section_fit(self, section: str) -> float:
        """1 when the section is where the main asked fact lives, 0.5 for another asked
        kind, else 0."""
        for i, kind in enumerate(self.kinds):
            if any(name in section for name in ASK_SECTIONS[kind]):
                return 1.0 if i == 0 else 0.5
        return 0.0

    def states(self, sentence: str) -> bool:
        return self.main is not None and ASK_SENTENCES[self.main].search(sentence) is not None


def ask_of(question: str) -> Ask:
    """The kinds of fact ``question`` asks for, in the order of ``ASK_CUES`` (a question
    about the materials' deadline asks first for the deadline...)."""
    text = tokens.clean(question)
    kinds = [kind for kind, cues in ASK_CUES.items() if any(c in text for c in cues)]
    return Ask(tuple(kinds))


def sentences(text: str) -> list[str]:
    """The sentences of a text; a line (a list item) ends a sentence too."""
    return [s.strip() for line in text.splitlines() for s in _SENTENCE.findall(line)
            if s.strip()]


def _tidy(sentence: str) -> str:
    return sentence if sentence[-1] in "。！？；!?;：:" else sentence + "。"


@dataclass(frozen=True)
class Knobs:
    """How the answering sentence is chosen (``bot.kb.ranking.Tuning`` holds the measured
    values): the bonus of a sentence in a section that holds the asked kind of fact, in the
    passage the search ranked first, or stating the asked kind of fact; the answer's
    length in characters."""

    section_weight: float = 0.3
    found_bonus: float = 0.15
    ask_bonus: float = 0.1
    limit: int = ANSWER_CHARS


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage, cut and cleaned once (``prepare``), with its section
    heading as context."""

    text: str
    clean: str  # the section heading and the sentence, cleaned
    grams: frozenset[str]


def prepare(section: str, text: str) -> list[Sentence]:
    out = []
    for part in sentences(text) or [text.strip()]:
        clean = tokens.clean(f"{section} {part}")
        out.append(Sentence(part, clean, frozenset(tokens.bigrams(clean))))
    return out


def best_answer(passages: Iterable[tuple[int, str, list[Sentence]]],
                query_words: Iterable[str], ask: Ask, weight: Callable[[str], float],
                knobs: Knobs = Knobs(), found: int | None = None) -> tuple[int, str]:
    """The passage (``(rowid, section, its prepared sentences)``, of one document) whose
    sentence answers the question best, and the answer: that sentence and its neighbours,
    trimmed to about ``knobs.limit`` characters around it. ``weight`` is a word's
    importance (its IDF in the knowledge base)."""
    words = list(dict.fromkeys(query_words))
    weights = [weight(w) for w in words]
    total = sum(weights) or 1.0
    grams = set(tokens.bigrams(tokens.clean("".join(words))))

    def score(s: Sentence) -> float:
        by_words = sum(wt for w, wt in zip(words, weights, strict=True) if w in s.clean) / total
        by_grams = len(grams & s.grams) / len(grams) if grams else 0.0
        return 0.6 * by_words + 0.2 * by_grams + (knobs.ask_bonus if ask.states(s.text)
                                                 else 0.0)

    best: tuple[float, int, list[Sentence], int] | None = None
    for rowid, section, parts in passages:
        bonus = knobs.section_weight * ask.section_fit(section) \
            + (knobs.found_bonus if rowid == found else 0.0)
        scores = [score(p) + bonus for p in parts]
        i = max(range(len(parts)), key=lambda i: (scores[i], -i))
        if best is None or scores[i] > best[0]:
            best = (scores[i], rowid, parts, i)
    if best is None:
        raise ValueError("no passage to answer from")
    _, rowid, parts, i = best
    return rowid, _window([p.text for p in parts], i, knobs.limit)


#: at most this many sentences before the best one (bench: 0 / 1 / 2 / unlimited gave
#: 0.601 / 0.628 / 0.641 / 0.647 right answers on the tuning questions; 2 keeps the
#: answering sentence near the top)
BACK_SENTENCES = 2


def _window(parts: list[str], best: int, limit: int) -> str:
    """The best sentence (with the one before it when it leans back on it) and the ones
    after it, then — while there is room — up to ``BACK_SENTENCES`` before it, in the
    passage's order, within ``limit`` characters."""
    first = best - 1 if best > 0 and _LEANS_BACK.match(parts[best]) else best
    last = best
    length = sum(len(parts[i]) for i in range(first, last + 1))
    while last + 1 < len(parts) and length + len(parts[last + 1]) <= limit:
        last += 1
        length += len(parts[last])
    while first > 0 and length + len(parts[first - 1]) <= limit \
            and best - first < BACK_SENTENCES:
        first -= 1
        length += len(parts[first])
    text = "".join(_tidy(parts[i]) for i in range(first, last + 1))
    return text if len(text) <= limit + 60 else text[:limit] + "……"  # one long sentence


#: a question that leans on the previous answer: "那小微企业呢", "制造业一样吗", "这个要交什么材料"
_LEANS_ON_ANSWER = re.compile(
    r"^(?:那|那么|那如果|如果是|要是|还有|另外|同样|其他|其它|像)"
    r"|(?:呢|一样吗|一样不|一样么|也能吗|也可以吗|也行吗|也适用吗|也算吗|也要吗|也有吗|也享受吗)"
    r"[？?。!！啊呀吧]*$")
#: nouns that name no topic of their own: "要什么材料", "去哪个部门办"
GENERIC_NOUNS = frozenset("材料 资料 条件 时间 部门 地方 流程 手续 企业 公司 政策 文件 单位 窗口 "
                           "网站 电话 要求 标准 比例 金额 期限 时限 有效期 地点 程序 事项 情况 "
                           "问题 内容 规定 办法 东西 多少 哪里 证件 申请 办理 申报 证明 "
                           "咨询电话 热线 联系方式 地址 网址 费用 收费 多久".split())


_OFFICE = re.compile(r"(?:局|部门|厅|委|中心|窗口|大厅|机关|网)$")


def leans_on_answer(question: str) -> str | None:
    """How ``question`` leans on the previous answer: ``"says so"`` ("那小微企业呢",
    "制造业一样吗": a cue and one topic at most), ``"no topic"`` ("要什么材料", "这个多久能
    批": no topic of its own), else None (a question that stands alone)."""
    text = tokens.clean(question)
    topics = {n for n in tokens.Text(text).nouns
              if n not in GENERIC_NOUNS and not _OFFICE.search(n)}
    if len(topics) <= 1 and _LEANS_ON_ANSWER.search(text) is not None:
        return "says so"
    return None if topics else "no topic"


#: clauses that only open the conversation: a greeting, "I'd like to ask", a salutation
_PREAMBLE = re.compile(
    r"^(?:喂|你好|您好|哈喽|hello|hi|在吗|在不在|尊敬的|致|领导|各位|工作人员|打扰|麻烦|"
    r"请问一下$|我想问(?:一?下)?$|想问(?:一?下)?$|问一?下$|咨询一?下$|我想咨询(?:一?下)?$|"
    r"我(?:想|要)?(?:问|咨询)(?:一?下)?(?:啊|哈|呀)?$)", re.I)
_QUESTION_CUE = (r"[?？吗呢]|什么|怎么|怎样|多少|多久|哪|几|能否|是否|可否|能不能|可不可以|"
                 r"要不要|有没有|是不是|算不算|咋|啥")
_ASKS = re.compile(_QUESTION_CUE)
_ASKING = re.compile(_QUESTION_CUE + r"|请教|咨询")  # a letter's request sentence too
#: "想咨询一下", "我这边是龙游的一家做机械配件的企业哈": about the caller, not the question
_INTRO = re.compile(r"^(?:我?(?:想|要)?(?:咨询|问|请教)一?下(?:啊|哈|呀)?|"
                    r"我(?:们|司)?(?:这边|公司|厂)?(?:是|系)(?:一家|一个)?.{0,20}"
                    r"(?:企业|公司|厂|店|单位|个体户)(?:哈|啊|呀)?)$")
LONG_QUESTION = 60  # characters: a letter or a story, read for its question sentences


def question_core(text: str) -> str:
    """The part of a message that asks: without a greeting or "我想问一下" in front, and
    for a long message (a letter, a story), the sentences that ask a question with the one
    before each ("…我司拟新开设一家餐饮门店，需办理食品经营许可。请问审批要多久？")."""
    clean = tokens.clean(text)
    clauses = [c.strip() for c in re.split(r"[，,。！!；;：:\n]", clean) if c.strip()]
    while len(clauses) > 1 and _PREAMBLE.match(clauses[0]):
        clauses.pop(0)
    kept = [c for c in clauses if not _INTRO.match(c) or _ASKS.search(c)]
    core = "，".join(kept or clauses)
    if len(core) <= LONG_QUESTION:
        return core or clean
    said = [s.strip() for s in re.split(r"(?<=[。！？!?；;])", clean) if s.strip()]
    keep = sorted({j for i, s in enumerate(said) if _ASKING.search(s)
                   for j in (i - 1, i) if j >= 0})
    return "".join(said[i] for i in keep) or core
