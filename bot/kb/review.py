"""The editors' review list: documents whose dates or targets have passed.

A policy past its ``valid_until``, replaced by another (``superseded_by``), past its
application deadline, or whose title names a period that has ended ("2021—2025年",
"2025年版") without a ``valid_until`` needs an editor: to date it, link its successor or
remove it. Answers from expired and replaced documents already say so (actions/policy.py);
this list is what to fix in the knowledge base itself.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

#: "2021—2025年", "2018-2023年", "2025年版", "（2023年）" in a title
_PERIOD = re.compile(r"(?:(\d{4})\s*[—–\-~至到]\s*)?(\d{4})\s*年(?:版|度)?")

REASONS = {
    "expired": "已过有效期",
    "superseded": "已被新文件取代",
    "deadline_passed": "申请截止日期已过",
    "targets_passed": "标题中的年份或目标期已过，但没有填写有效期",
    "date_incomplete": "发布日期不完整（缺月或日）",
}


def review_list(documents: list[dict[str, Any]], today: date | None = None
                ) -> list[dict[str, Any]]:
    """One row per document and reason, the most urgent reasons first."""
    today = today or date.today()
    rows = []
    for doc in documents:
        until, apply_by = doc.get("valid_until"), doc.get("apply_by")
        found = []
        if doc.get("superseded_by"):
            found.append(("superseded", doc["superseded_by"]))
        if until and date.fromisoformat(until) < today:
            found.append(("expired", until))
        if apply_by and date.fromisoformat(apply_by) < today:
            found.append(("deadline_passed", apply_by))
        years = [int(m.group(2)) for m in _PERIOD.finditer(doc.get("title", ""))]
        if not until and years and max(years) < today.year:
            found.append(("targets_passed", str(max(years))))
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(doc.get("date") or "")):
            found.append(("date_incomplete", str(doc.get("date") or "")))
        rows += [{"doc_id": doc["id"], "title": doc["title"], "reason": reason,
                  "reason_text": REASONS[reason], "detail": detail,
                  "source": doc.get("source", "")} for reason, detail in found]
    order = list(REASONS)
    return sorted(rows, key=lambda r: (order.index(r["reason"]), r["doc_id"]))
