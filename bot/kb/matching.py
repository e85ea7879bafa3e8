"""Policy matching (政策直达): which policies an enterprise may be eligible for.

A document declares its conditions in the front matter (``eligibility``, see
docs/knowledge_base.md); every condition must hold. For a profile each candidate
policy gets the conditions it meets, the ones it misses, and the ones the profile
does not say (unknown) — so the enterprise sees what is missing, not just yes/no.
Only documents that grant something (``benefit`` in the front matter: funds, tax or fee
relief, a qualification, a service) are candidates — a law, a procedure or a negative
list is never offered as a benefit. Expired and replaced documents and documents of
other regions are left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.regions import region_table

SIZE_NAMES = {"micro": "微型", "small": "小型", "medium": "中型", "large": "大型"}
QUALIFICATIONS = ("高新技术企业", "科技型中小企业", "专精特新中小企业",
                  '专精特新"小巨人"企业', "创新型中小企业", "规上工业企业", "小型微利企业",
                  "个体工商户", "出口企业", "外商投资企业")
#: short forms people use → the qualification's name
QUALIFICATION_ALIASES = {"高企": "高新技术企业", "高新企业": "高新技术企业",
                         "科小": "科技型中小企业",
                         "科技型企业": "科技型中小企业", "小巨人": '专精特新"小巨人"企业',
                         "专精特新": "专精特新中小企业", "规上": "规上工业企业",
                         "规模以上": "规上工业企业", "小微": "小型微利企业", "个体户": "个体工商户",
                         "外贸": "出口企业", "外资": "外商投资企业", "创新型": "创新型中小企业"}


@dataclass(frozen=True)
class Profile:
    region: str | None = None  # e.g. 龙游县
    industry: str | None = None  # 国民经济行业分类 门类, e.g. 制造业
    size: str | None = None  # micro | small | medium | large
    qualifications: frozenset[str] = frozenset()
    rd_expense: float | None = None  # yuan per year
    employees: int | None = None


@dataclass(frozen=True)
class Match:
    doc: dict[str, Any]
    met: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.missing and not self.unknown

    def view(self) -> dict[str, Any]:
        d = self.doc
        return {"doc_id": d["id"], "title": d["title"], "doc_no": d.get("doc_no", ""),
                "url": d.get("url", ""), "region": d.get("region", ""),
                "benefit": d.get("benefit", ""), "deadline": deadline(d),
                "valid_until": d.get("valid_until"), "eligible": self.eligible,
                "met": self.met, "missing": self.missing, "unknown": self.unknown}


def deadline(doc: dict[str, Any]) -> str | None:
    """The application deadline, else the end of the policy (ISO date), if known."""
    return doc.get("apply_by") or doc.get("valid_until")


def still_open(doc: dict[str, Any], today: date) -> bool:
    """Whether the policy can still be applied for: not replaced, deadline not passed."""
    until = deadline(doc)
    return not doc.get("superseded_by") and not (until and date.fromisoformat(until) < today)


def qualifications_in(text: str) -> frozenset[str]:
    found = {q for q in QUALIFICATIONS if q.replace('"', "") in text.replace('"', "")}
    found |= {q for alias, q in QUALIFICATION_ALIASES.items() if alias in text}
    if '专精特新"小巨人"企业' in found and "专精特新中小企业" in found \
            and "专精特新中小企业" not in text:
        found.discard("专精特新中小企业")  # 小巨人 said, not the lower tier
    return frozenset(found)


def _wan(yuan: float) -> str:
    return f"{yuan / 10_000:g}万元"


def _in_region(doc_region: str, place: set[str] | None) -> bool | None:
    if doc_region in ("全国", "浙江省", ""):
        return True
    if place is None:
        return None
    return doc_region in place


def _place(profile: Profile) -> set[str] | None:
    if not profile.region:
        return None
    region = region_table().get(profile.region)
    if region is None:
        return {profile.region}
    return {region.name, *([region.city] if region.city else [])}


def evaluate_policy(doc: dict[str, Any], profile: Profile) -> Match | None:
    """The match of one document, or None when it is not a candidate at all."""
    rules = doc.get("eligibility") or {}
    if not rules or not doc.get("benefit"):
        return None
    place = _place(profile)
    where = _in_region(doc.get("region") or "全国", place)
    if where is False:
        return None
    m = Match(doc)
    if where is None:
        m.unknown.append(f"适用地区：{doc['region']}")
    elif doc.get("region") not in ("全国", "浙江省", ""):
        m.met.append(f"适用地区：{doc['region']}")
    for q in rules.get("qualifications", []):
        (m.met if q in profile.qualifications else m.missing).append(f"具备“{q}”资格")
    if "size" in rules:
        wanted = "、".join(SIZE_NAMES[s] for s in rules["size"])
        if profile.size is None:
            m.unknown.append(f"企业规模为{wanted}企业")
        else:
            (m.met if profile.size in rules["size"] else m.missing).append(
                f"企业规模为{wanted}企业")
    if rules.get("industries"):
        wanted = "、".join(rules["industries"])
        if profile.industry is None:
            m.unknown.append(f"所属行业：{wanted}")
        else:
            (m.met if profile.industry in rules["industries"] else m.missing).append(
                f"所属行业：{wanted}")
    for key, value, label in (("min_rd_expense", profile.rd_expense, "年研发费用不低于"),
                              ("min_employees", profile.employees, "从业人数不少于")):
        if key in rules and rules[key]:
            need = rules[key]
            text = f"{label}{_wan(need) if key == 'min_rd_expense' else f'{need:g}人'}"
            if value is None:
                m.unknown.append(text)
            else:
                (m.met if value >= need else m.missing).append(text)
    return m


def match_policies(documents: list[dict[str, Any]], profile: Profile,
                   today: date | None = None) -> list[Match]:
    """Candidate policies, those fully met first, then by fewest missing conditions."""
    today = today or date.today()
    out = []
    for doc in documents:
        if not still_open(doc, today):
            continue
        m = evaluate_policy(doc, profile)
        if m is not None:
            out.append(m)
    # fully met first; among those, the ones the enterprise's qualifications open
    return sorted(out, key=lambda m: (len(m.missing), len(m.unknown),
                                      -sum("资格" in c for c in m.met), -len(m.met),
                                      m.doc["id"]))
