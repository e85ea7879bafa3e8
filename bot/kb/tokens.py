"""Query and passage tokens for retrieval: jieba words and character bigrams.

Both go through the NLU's normaliser (Traditional → Simplified, full-width →
half-width), and jieba uses the NLU's user dictionary — in a private jieba
instance, so the NLU's global one is never touched — plus the knowledge base's
glossary (``bot/resources/glossary.txt``): its terms stay whole, and every
abbreviation or colloquial name becomes the group's official term (高企 →
高新技术企业), in the questions and in the documents alike.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from functools import cached_property, lru_cache
from pathlib import Path

from bot.text import normalize

logger = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
USER_DICT = RESOURCES / "jieba" / "userdict.txt"
GLOSSARY = RESOURCES / "glossary.txt"
_WORDISH = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_LETTERS = re.compile(r"[a-z\u4e00-\u9fff]")  # not a number
_RUNS = re.compile(r"[0-9a-z\u4e00-\u9fff]+")
_LATIN = re.compile(r"[0-9a-zA-Z]+")  # a run jieba tags "eng"

#: words that say nothing about which policy is meant (the legal forms of company
#: names among them: 龙游县恒丰纸业有限公司 says who asks, not what about)
STOPWORDS = frozenset("""
的 了 是 在 和 与 及 或 也 还 就 都 而 并 被 把 对 从 向 给
让 为 以 于 之 其 这 那 个 些 么 吗 呢 吧 啊 呀 嘛 哦 我 我们
你 你们 他 她 它 他们 咱们 大家 自己 本 该 此 这个 那个 这些 那些
这样 那样 什么 怎么 怎么样 怎样 如何 哪些 哪个 哪里 多少 几 是否
能否 能不能 可不可以 可以 能 会 要 想 需要 应该 请问 请 麻烦 帮
帮忙 一下 一些 有 没有 有没有 没 不 很 太 更 最 又 再 已经 现在
目前 今年 去年 明年 时候 情况 问题 事 事情 公司 企业 我司 单位 厂
厂里 老板 咨询 了解 知道 告诉 问 问问 一般 具体 相关 规定 政策 办法
方面 上 下 里 有限公司 有限责任公司 股份有限公司 股份公司 集团 集团公司 分公司
""".split())

#: jieba part-of-speech tag prefixes of nouns (n, nr, ns, nt, nz …), verbal nouns, Latin words
_NOUN_TAGS = ("n", "vn", "eng")


#: one character in brackets inside a word, as policy texts write optional parts:
#: 首台（套） → 首台套, 退（免）税 → 退免税
_OPTIONAL_CHAR = re.compile(r"(?<=[\u4e00-\u9fff])\(([\u4e00-\u9fff])\)")


def clean(text: str) -> str:
    return _OPTIONAL_CHAR.sub(r"\1", normalize(text).text.lower())


#: bump when the tokenisation changes in a way the files below do not show
TOKENS_VERSION = "3"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Identifies the tokenisation (code version, user dictionary, glossary): an index
    built with another one must be rebuilt, not updated."""
    digest = hashlib.sha256(TOKENS_VERSION.encode())
    for path in (USER_DICT, GLOSSARY):
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def glossary() -> dict[str, str]:
    """Every glossary term (normalised) → the official term of its group."""
    official: dict[str, str] = {}
    if not GLOSSARY.exists():
        return official
    for n, line in enumerate(GLOSSARY.read_text(encoding="utf-8").splitlines(), start=1):
        terms = [clean(t) for t in line.split()] if not line.startswith("#") else []
        for term in terms:
            if term in official and official[term] != terms[0]:
                logger.warning("%s:%d: %r is already in the group of %r; it stays there",
                               GLOSSARY, n, term, official[term])
                continue
            official[term] = terms[0]
    return official


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    if USER_DICT.exists():
        tokenizer.load_userdict(str(USER_DICT))
    for term in glossary():
        tokenizer.add_word(term, tag="nz")  # frequency: just enough to stay whole
    return tokenizer


@lru_cache(maxsize=1)
def _noun_words() -> frozenset[str]:
    """The dictionary's words that jieba tags as nouns (``_NOUN_TAGS``), the user
    dictionary's and glossary's tags taking precedence. What ``jieba.posseg`` tags
    without its HMM, held as one set of the tokenizer's own word strings: the posseg
    module keeps every word's tag twice over (about 90 MB in each process)."""
    tokenizer = _jieba()
    tokenizer.check_initialized()
    nouns: set[str] = set()
    with tokenizer.get_dict_file() as lines:
        for line in lines:
            word, _, tag = line.decode("utf-8").split()[:3]  # 词 频率 词性
            if tag.startswith(_NOUN_TAGS):
                nouns.add(word)
    for word, tag in tokenizer.user_word_tag_tab.items():
        (nouns.add if tag.startswith(_NOUN_TAGS) else nouns.discard)(word)
    return frozenset(w for w in tokenizer.FREQ if w in nouns)  # the tokenizer's strings


class Text:
    """A question or passage, normalised and cut once; its words, bigrams, nouns and
    glossary terms are worked out when first asked for."""

    def __init__(self, text: str) -> None:
        self.clean = clean(text)

    @cached_property
    def tokens(self) -> list[str]:
        """jieba tokens, punctuation included, aliases replaced by official terms."""
        official = glossary()
        return [official.get(w, w) for w in _jieba().lcut(self.clean)]

    @cached_property
    def words(self) -> list[str]:
        """Content words, in order, repeats kept."""
        return [w for w in self.tokens if _WORDISH.search(w) and w not in STOPWORDS]

    @cached_property
    def grams(self) -> list[str]:
        """Character bigrams inside runs of letters/digits/Han characters: typo-tolerant
        (加记扣除 still shares 扣除) and independent of how jieba splits. Bigrams that
        are stop words (多少, 怎么, 我们 …) are left out, so they do not match every
        passage. A question's bigrams are those of its own words and of the official
        terms of its aliases (高企 → 高企, 高新, 新技 …)."""
        return list(dict.fromkeys(self.surface_grams + bigrams("".join(self.tokens))))

    @cached_property
    def surface_grams(self) -> list[str]:
        """The bigrams of the text as written — what a passage is indexed with (its
        aliases are not expanded: a passage that says 加计扣除 once should not gain the
        bigrams of 研发费用加计扣除)."""
        return bigrams(self.clean)

    @cached_property
    def nouns(self) -> list[str]:
        """The nouns (two characters or more, no stop words), in order: what a question
        is about — 住房公积金, 排污许可证. Glossary terms count as nouns."""
        official, nouns, known = glossary(), _noun_words(), _jieba().FREQ
        return [official.get(w, w) for w in _jieba().lcut(self.clean, HMM=False)
                if len(w) > 1 and w not in STOPWORDS and _LETTERS.search(w)
                and (w in nouns or (not known.get(w) and _LATIN.fullmatch(w)))]

    @cached_property
    def terms(self) -> list[str]:
        """The glossary terms (official names), in order."""
        official = _official_terms()
        return list(dict.fromkeys(w for w in self.tokens if w in official))


@lru_cache(maxsize=1)
def _official_terms() -> frozenset[str]:
    return frozenset(glossary().values())


def bigrams(cleaned: str) -> list[str]:
    out: list[str] = []
    for run in _RUNS.findall(cleaned):
        pairs = [run[i:i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
        out += [p for p in pairs if p not in STOPWORDS]
    return out


def words(text: str) -> list[str]:
    """The content words of a text (``Text.words``)."""
    return Text(text).words


def general_idf(word: str) -> float:
    """How rare a word is in general Chinese (jieba's dictionary frequencies): filler
    words weigh little, topic words much."""
    tokenizer = _jieba()
    tokenizer.check_initialized()
    return math.log(tokenizer.total / (tokenizer.FREQ.get(word, 0) + 1))
