"""Tables as CSV and XLSX downloads, with personal data masked for roles that may not
see it, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.masking import mask_text

PERSONAL = ("contact", "mobile")
#: free text in which a mobile, an ID number or a credit code may be written
FREE_TEXT = ("text", "question", "reason", "comment")


def mask(value: Any, column: str) -> Any:
    if value in (None, ""):
        return value
    text = str(value)
    if column == "mobile":
        return f"{text[:3]}****{text[-4:]}" if len(text) >= 7 else "****"
    return text[0] + "*" * (len(text) - 1)


def masked_rows(rows: list[dict[str, Any]], may_see_personal: bool) -> list[dict[str, Any]]:
    if may_see_personal:
        return rows
    return [{k: mask(v, k) if k in PERSONAL else mask_text(v) if k in FREE_TEXT else v
             for k, v in r.items()} for r in rows]


#: what makes a spreadsheet read a cell as a formula (OWASP "CSV injection")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    """A text that would start a formula (=HYPERLINK(…), =1+1有限公司, +86…) gets a leading
    apostrophe, which spreadsheets show as text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]], columns: list[str],
           headers: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers or columns)
    writer.writerows([inert(r.get(c)) for c in columns] for r in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def to_xlsx(rows: list[dict[str, Any]], columns: list[str], title: str,
            headers: list[str] | None = None) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers or columns)
    for r in rows:
        sheet.append([r.get(c) for c in columns])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # stored as text: openpyxl would write it as a formula
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
