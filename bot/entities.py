"""Rule-based entity extraction: regions, money, dates, phones, credit codes, companies,
ticket numbers.

Every entity type here is either a closed list (Zhejiang's regions) or has a
regular written form (amounts, dates, phone numbers, 18-character codes), so
rules are exact, explainable and fast, and need no annotated training data. The
functions work on normalised text (see ``bot.text``) and return spans into it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.creditcode import CHARSET, is_valid_credit_code, is_valid_id_number
from bot.regions import RegionTable, region_table


@dataclass
class Entity:
    entity: str
    start: int
    end: int
    value: Any
    extra: dict[str, Any] = field(default_factory=dict)


# --- money -------------------------------------------------------------------

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_MAGNITUDES = {"万": 10**4, "十万": 10**5, "百万": 10**6, "千万": 10**7, "亿": 10**8}
_NUM = r"(?:\d+(?:,\d{3})*(?:\.\d+)?|[一二两三四五六七八九十几][零〇一二两三四五六七八九十百千几]*(?:点[零〇一二三四五六七八九]+)?)"
_APPROX = r"(?:来|多|余)?"
_MAG = r"(?:千万|百万|十万|万|亿)"
_CUR = r"(?:元|块钱|块(?![地田房板砖头儿])|美元|美金|欧元|日元|港元|港币)"
_NOT_MONEY = r"(?!\s*(?:人|名|个|台|套|亩|平|方|吨|件|次|户|家|辆|只|头|条|张|份|字|度|千瓦|瓦|公里|米|斤|公斤|立方|株|棵|箱|双|册|本|小时|天|年|粉丝|用户|员工|工人|字))"
_MONEY_RE = re.compile(
    rf"(?:人民币)?{_NUM}\s*{_APPROX}\s*(?:{_MAG}{_APPROX}(?:\s*{_CUR})?{_NOT_MONEY}|{_CUR})"
)


def _cn_int(s: str) -> int | None:
    """Parse a Chinese numeral below 10,000 (三百, 一千二百, 十五, 二〇二六)."""
    if s and all(c in _CN_DIGITS for c in s):  # digit by digit: 二〇二六
        return int("".join(str(_CN_DIGITS[c]) for c in s))
    total, digit = 0, None
    for c in s:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
        else:
            return None
    return total + (digit or 0)


def money_to_yuan(text: str) -> float | None:
    """Approximate amount in yuan for a matched money expression (None if not parseable)."""
    m = re.match(r"(?:人民币)?(?P<num>[\d,.]+|[零〇一二两三四五六七八九十百千几点]+)\s*(?:来|多|余)?\s*(?P<mag>千万|百万|十万|万|亿)?", text)
    if not m or "几" in m.group("num"):
        return None
    num = m.group("num").replace(",", "")
    if num[0].isdigit():
        try:
            value = float(num)
        except ValueError:
            return None
    else:
        whole, _, frac = num.partition("点")
        base = _cn_int(whole)
        if base is None:
            return None
        value = base + (float("0." + "".join(str(_CN_DIGITS[c]) for c in frac)) if frac else 0.0)
    value *= _MAGNITUDES.get(m.group("mag") or "", 1)
    return value


# --- dates -------------------------------------------------------------------

_RELATIVE_DATES = ("今天", "明天", "后天", "昨天", "前天", "上周", "下周", "本周", "这周",
                   "上个月", "下个月", "这个月", "本月", "上月", "下月", "月底", "月初", "年底",
                   "年初", "去年", "今年", "明年", "前年", "春节前", "春节后", "节后")
_DATE_RE = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[-/.年]\s*(?P<m>\d{1,2})\s*(?:[-/.月]\s*(?:(?P<d>\d{1,2})\s*[日号]?)?)"
    r"|(?P<m2>\d{1,2})\s*月\s*(?P<d2>\d{1,2})\s*[日号]"
    r"|(?P<y3>(?:19|20)\d{2})\s*年(?:底|初|上半年|下半年|度)?"
    r"|(?:十[一二]?|[一二三四五六七八九])月(?:份|底|初|中旬|上旬|下旬)?"
    r"|" + "|".join(_RELATIVE_DATES)
)


def _iso_date(m: re.Match[str]) -> str | None:
    if m.group("y"):
        month = int(m.group("m"))
        if not 1 <= month <= 12:
            return None
        day = m.group("d")
        if day and 1 <= int(day) <= 31:
            return f"{m.group('y')}-{month:02d}-{int(day):02d}"
        return f"{m.group('y')}-{month:02d}"
    if m.group("y3"):
        return m.group("y3")
    return None


# --- identifiers ---------------------------------------------------------------

_MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
_MOBILE_DIGITS_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a mainland mobile number


def find_mobile(text: str) -> str | None:
    """The first mobile number in ``text``, written with or without spaces and dashes."""
    digits = re.sub(r"[\s-]", "", text)
    digits = re.sub(r"(?:\+|00)?86(?=1[3-9]\d{9}(?!\d))", "", digits)  # +86 / 0086 / 86 prefix
    match = _MOBILE_DIGITS_RE.search(digits)
    return match.group() if match else None


def is_mobile(value: str) -> bool:
    return _MOBILE_DIGITS_RE.fullmatch(value) is not None
_TICKET_RE = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{2})[-_ ]?(\d{8})[-_ ]?(\d{4})(?!\d)")


def find_ticket_numbers(text: str) -> list[str]:
    """Ticket numbers such as QZ-20261126-0001, however the user typed them."""
    return [f"{m[1].upper()}-{m[2]}-{m[3]}" for m in _TICKET_RE.finditer(text)]


_LANDLINE_RE = re.compile(r"(?<![\d-])0\d{2,3}-?\d{7,8}(?!\d)")
_CODE_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")

# A company name: 2–25 characters that are not pronouns, particles or punctuation,
# ending in a legal-form suffix. "我们厂" and "做轴承的厂子" are deliberately not names.
_COMPANY_RE = re.compile(
    r"[^\s，。！？、；：,.!?;:（）()“”\"'的是在和与跟给被向对找帮我你他她它们这那个有了]{2,25}"
    r"(?:有限责任公司|股份有限公司|集团有限公司|有限公司|集团|分公司|公司|合作社|研究院|事务所)"
    r"|[^\s，。！？、；：,.!?;:（）()“”\"'的是在和与跟给被向对找帮我你他她它们这那个有了]{4,20}(?:厂|民宿|酒店)(?!子|里|房|区)"
)


def _find(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    return pattern.finditer(text)


def extract_entities(text: str, regions: RegionTable | None = None) -> list[Entity]:
    """All entities in a normalised text, in order of appearance, without overlaps."""
    regions = regions or region_table()
    found: list[Entity] = []
    for m in _find(_CODE_RE, text):
        code = m.group().upper()
        if is_valid_id_number(code) and not is_valid_credit_code(code):
            found.append(Entity("id_number", m.start(), m.end(), code))
        elif is_valid_credit_code(code) or (
            code[2:8].isdigit() and all(c in CHARSET for c in code)
        ):  # invalid codes are kept (a typo is still a code); actions check validity
            found.append(Entity("credit_code", m.start(), m.end(), code,
                                {"valid": is_valid_credit_code(code)}))
    for m in _find(_TICKET_RE, text):
        found.append(Entity("ticket_number", m.start(), m.end(),
                            f"{m[1].upper()}-{m[2]}-{m[3]}"))
    for m in _find(_MOBILE_RE, text):
        found.append(Entity("phone", m.start(), m.end(), re.sub(r"[- ]", "", m.group()),
                            {"kind": "mobile"}))
    for m in _find(_LANDLINE_RE, text):
        found.append(Entity("phone", m.start(), m.end(), m.group(), {"kind": "landline"}))
    for m in _find(_COMPANY_RE, text):
        found.append(Entity("company", m.start(), m.end(), m.group()))
    for start, end, region in regions.find(text):
        found.append(Entity("region", start, end, region.name,
                            {"level": region.level, "city": region.city}))
    for m in _find(_MONEY_RE, text):
        found.append(Entity("amount", m.start(), m.end(), m.group().strip(),
                            {"yuan": money_to_yuan(m.group().strip())}))
    for m in _find(_DATE_RE, text):
        found.append(Entity("date", m.start(), m.end(), m.group(), {"iso": _iso_date(m)}))
    return _without_overlaps(found)


def _without_overlaps(entities: list[Entity]) -> list[Entity]:
    """Keep identifiers and companies over what they contain (a region inside a company
    name is still reported: it says where the company is)."""
    priority = {"ticket_number": 0, "id_number": 0, "credit_code": 0, "phone": 1, "company": 2, "amount": 3,
                "date": 3, "region": 4}
    kept: list[Entity] = []
    for ent in sorted(entities, key=lambda e: (priority[e.entity], e.start, -(e.end - e.start))):
        clash = any(k.start < ent.end and ent.start < k.end for k in kept
                    if not (ent.entity == "region" and k.entity == "company"))
        if not clash:
            kept.append(ent)
    return sorted(kept, key=lambda e: (e.start, e.end))
