"""Policy documents: reading Markdown (with front matter), text, HTML, DOCX and PDF.

Every format ends up as one ``PolicyDocument``: metadata (``id``, ``title``,
``issuer``, ``doc_no``, ``date``, ``url``, ``domains``, ``subtopics``, ``region``,
``valid_until``, ``superseded_by``, ``benefit``, ``apply_by``, ``audience``,
``eligibility``) and a
body in which ``## `` lines are section headings. Files other than Markdown have no
front matter: their id is the file stem and their title the first line (or the
document's own title).

Government files are often GBK/GB18030-encoded: the encoding is detected.
Every problem raises ``DocumentError`` naming the file (and line, where known).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from bot.taxonomy import Taxonomy, taxonomy

SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".docx", ".pdf"}
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
SIZES = ("micro", "small", "medium", "large")
#: what the ``eligibility`` front matter may say (all conditions must hold)
ELIGIBILITY_KEYS = {"qualifications", "size", "industries", "min_rd_expense", "min_employees"}
MAX_BYTES = 20 * 1024 * 1024
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}){0,2}$")


class DocumentError(ValueError):
    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class PolicyDocument:
    id: str
    title: str
    body: str
    source: str  # the file, relative to the ingested folder
    hash: str  # SHA-256 of the file's bytes: re-ingesting skips unchanged files
    issuer: str = ""
    doc_no: str = ""
    date: str = ""  # as published: 2023-03-26, or 2021 when only the year is known
    url: str = ""
    domains: tuple[str, ...] = ()
    subtopics: tuple[str, ...] = ()
    region: str = "全国"
    valid_until: date | None = None
    superseded_by: str = ""  # the id of the document that replaces this one
    benefit: str = ""  # what the document grants (funds, relief, a qualification, a service)
    apply_by: date | None = None  # the application deadline, when there is one
    audience: tuple[str, ...] = ()  # words naming who it is only for (集成电路, 工业母机)
    eligibility: dict[str, Any] = field(default_factory=dict)

    def meta(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "issuer": self.issuer,
                "doc_no": self.doc_no, "date": self.date, "url": self.url,
                "domains": list(self.domains), "subtopics": list(self.subtopics),
                "region": self.region,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "superseded_by": self.superseded_by or None, "benefit": self.benefit,
                "apply_by": self.apply_by.isoformat() if self.apply_by else None,
                "audience": list(self.audience),
                "eligibility": self.eligibility, "source": self.source}


def find_documents(folder: Path) -> list[Path]:
    """Every file of a supported format under ``folder`` (hidden files skipped)."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def decode(data: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM), else the detected encoding (GB18030 for the GB family)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise DocumentError(path, "cannot detect the text encoding (save it as UTF-8)")
    encoding = best.encoding.lower().replace("-", "_")
    if encoding in {"gb2312", "gbk", "gb18030", "hz", "cp936"}:
        encoding = "gb18030"  # the superset: never loses a character of the others
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DocumentError(path, f"cannot decode as {encoding} ({exc})") from None


# -- formats --------------------------------------------------------------------------
class _HtmlText(HTMLParser):
    """Visible text of an HTML page; h1 → title, h2–h6 → ``## `` headings."""

    SKIP = {"script", "style", "noscript", "head", "nav", "footer"}
    BLOCK = {"p", "div", "br", "li", "tr", "section", "article", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.title = ""
        self._skip = 0
        self._heading: str | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self._skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = tag
        elif tag in self.BLOCK:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self._skip = max(0, self._skip - 1)
        elif re.fullmatch(r"h[1-6]", tag) and self._heading:
            text = "".join(self._buf).strip()
            self._buf = []
            if self._heading == "h1" and not self.title:
                self.title = text
            elif text:
                self.lines.append(f"## {text}")
            self._heading = None
        elif tag in self.BLOCK:
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._buf.append(data)

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self._buf)).strip()
        self._buf = []
        if text:
            self.lines.append(text)

    def close(self) -> None:
        super().close()
        self._flush()


def _docx_text(path: Path) -> tuple[str, str]:
    import docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several types for damaged files
        raise DocumentError(path, f"not a readable DOCX file ({type(exc).__name__})") from None
    title, lines = document.core_properties.title or "", []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style == "title" or (style == "heading 1" and not title):
            title = title or text
        elif style.startswith("heading"):
            lines.append(f"## {text}")
        else:
            lines.append(text)
    return title, "\n".join(lines)


def _pdf_text(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or ""
    except (PdfReadError, OSError, ValueError) as exc:
        raise DocumentError(path, f"not a readable PDF file ({exc})") from None
    text = "\n".join(pages)
    if not text.strip():
        raise DocumentError(path, "the PDF has no text layer (a scan?); OCR it or convert "
                                  "it to text first")
    return title, text


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        return {}, text
    end = re.search(r"^---\s*$", text[3:], flags=re.M)
    if end is None:
        raise DocumentError(path, "front matter opened with '---' is never closed", 1)
    raw, body = text[3:3 + end.start()], text[3 + end.end():]
    try:
        meta = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        # where an unclosed bracket or quote began, else where the parser gave up
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        # the YAML starts right after the opening '---' on line 1: its line 0 is file line 1
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DocumentError(path, f"malformed front matter: {problem}", line) from None
    if not isinstance(meta, dict):
        raise DocumentError(path, "front matter must be a mapping of fields", 2)
    return meta, body


def _first_line_title(body: str) -> tuple[str, str]:
    lines = body.strip().splitlines()
    if not lines:
        return "", ""
    return lines[0].lstrip("# ").strip(), "\n".join(lines[1:])


# -- validation -----------------------------------------------------------------------
def _as_date(value: Any, key: str, path: Path) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise DocumentError(path, f"{key} must be a date like 2027-12-31, not {value!r}") \
            from None


def _as_list(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise DocumentError(path, f"{key} must be a list like [tech, policy]")
    return tuple(str(v) for v in value)


def _eligibility(value: Any, path: Path) -> dict[str, Any]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise DocumentError(path, "eligibility must be a mapping (see docs/knowledge_base.md)")
    unknown = set(value) - ELIGIBILITY_KEYS
    if unknown:
        raise DocumentError(path, f"unknown eligibility condition(s): {', '.join(sorted(unknown))}"
                                  f" (known: {', '.join(sorted(ELIGIBILITY_KEYS))})")
    out: dict[str, Any] = {}
    for key in ("qualifications", "industries"):
        if key in value:
            out[key] = list(_as_list(value[key], f"eligibility.{key}", path))
    if "size" in value:
        sizes = list(_as_list(value["size"], "eligibility.size", path))
        if not set(sizes) <= set(SIZES):
            raise DocumentError(path, f"eligibility.size must be among {', '.join(SIZES)}")
        out["size"] = sizes
    for key in ("min_rd_expense", "min_employees"):
        if key in value:
            if not isinstance(value[key], int | float) or value[key] < 0:
                raise DocumentError(path, f"eligibility.{key} must be a number ≥ 0")
            out[key] = value[key]
    return out


def load_document(path: Path, root: Path | None = None, tax: Taxonomy | None = None
                  ) -> PolicyDocument:
    tax = tax or taxonomy()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read ({exc.strerror})") from None
    if not data.strip():
        raise DocumentError(path, "the file is empty")
    if len(data) > MAX_BYTES:
        raise DocumentError(path, f"larger than {MAX_BYTES // 2**20} MB")
    suffix = path.suffix.lower()
    meta: dict[str, Any] = {}
    title = ""
    if suffix in (".md", ".markdown"):
        meta, body = _split_front_matter(decode(data, path), path)
        first = body.strip().splitlines()[0] if body.strip() else ""
        if not meta.get("title") and re.match(r"#\s", first):  # a "# Title" line
            title, body = _first_line_title(body)
    elif suffix == ".txt":
        title, body = _first_line_title(decode(data, path))
    elif suffix in (".html", ".htm"):
        parser = _HtmlText()
        parser.feed(decode(data, path))
        parser.close()
        body = "\n".join(parser.lines)
        title = parser.title
        if not title:
            title, body = _first_line_title(body)
    elif suffix == ".docx":
        title, body = _docx_text(path)
        if not title:
            title, body = _first_line_title(body)
    elif suffix == ".pdf":
        title, body = _pdf_text(path)
        if not title:
            title, body = _first_line_title(body)
    else:
        raise DocumentError(path, f"unsupported file type {suffix}")

    doc_id = str(meta.get("id") or path.stem).strip()
    if not ID_RE.match(doc_id):
        raise DocumentError(path, f"id {doc_id!r} must be lowercase letters, digits, '-', '_' "
                                  "or '.' (at most 100)")
    domains = _as_list(meta.get("domains"), "domains", path)
    bad = [d for d in domains if d not in tax.domains]
    if bad:
        raise DocumentError(path, f"unknown domain id(s) {', '.join(bad)} (known: "
                                  f"{', '.join(tax.domains)})")
    subtopics = _as_list(meta.get("subtopics"), "subtopics", path)
    bad = [s for s in subtopics if s not in tax.subtopics]
    if bad:
        raise DocumentError(path, f"unknown sub-topic id(s) {', '.join(bad)}")
    body = body.strip()
    if not body:
        raise DocumentError(path, "the document has no text after its front matter")
    published = meta.get("date")
    if published not in (None, "") and not isinstance(published, date) \
            and not _PARTIAL_DATE.match(str(published)):
        raise DocumentError(path, f"date must be like 2023-03-26 (or 2023-03, 2023 when the day "
                                  f"is not known), not {published!r}")
    successor = str(meta.get("superseded_by") or "").strip()
    if successor and not ID_RE.match(successor):
        raise DocumentError(path, f"superseded_by {successor!r} must be a document id")
    return PolicyDocument(
        id=doc_id, title=str(meta.get("title") or title or doc_id).strip(), body=body,
        source=str(path.relative_to(root)) if root else path.name,
        hash=hashlib.sha256(data).hexdigest(), issuer=str(meta.get("issuer") or ""),
        doc_no=str(meta.get("doc_no") or ""),
        date=published.isoformat() if isinstance(published, date) else str(published or ""),
        url=str(meta.get("url") or ""), domains=domains, subtopics=subtopics,
        region=str(meta.get("region") or "全国"),
        valid_until=_as_date(meta.get("valid_until"), "valid_until", path),
        superseded_by=successor, benefit=str(meta.get("benefit") or "").strip(),
        apply_by=_as_date(meta.get("apply_by"), "apply_by", path),
        audience=_as_list(meta.get("audience"), "audience", path),
        eligibility=_eligibility(meta.get("eligibility"), path))
