"""Service domains and sub-topics (the public ids of ``taxonomy.yml``)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.resources import TAXONOMY_FILE


class TaxonomyError(ValueError):
    """The taxonomy file is malformed, or an id is not in it."""


@dataclass(frozen=True)
class Subtopic:
    id: str
    name: str
    domain: str
    description: str = ""


@dataclass(frozen=True)
class Domain:
    id: str
    name: str
    description: str
    subtopics: tuple[Subtopic, ...]


@dataclass(frozen=True)
class Taxonomy:
    domains: dict[str, Domain]
    subtopics: dict[str, Subtopic]

    def domain_of(self, subtopic_id: str) -> str:
        try:
            return self.subtopics[subtopic_id].domain
        except KeyError:
            raise TaxonomyError(f"unknown sub-topic id {subtopic_id!r}") from None

    def label(self, domain_id: str, subtopic_id: str | None = None) -> str:
        """Chinese label shown to users, e.g. ``金融服务·应急转贷（过桥）与抽贷断贷``."""
        name = self.domains[domain_id].name
        if subtopic_id:
            name += "·" + self.subtopics[subtopic_id].name
        return name


def load_taxonomy(path: Path = TAXONOMY_FILE) -> Taxonomy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        domains: dict[str, Domain] = {}
        subtopics: dict[str, Subtopic] = {}
        for d in raw["domains"]:
            subs = tuple(Subtopic(s["id"], s["name"], d["id"], s.get("description", ""))
                         for s in d["subtopics"])
            domains[d["id"]] = Domain(d["id"], d["name"], d.get("description", ""), subs)
            for s in subs:
                if s.id in subtopics:
                    raise TaxonomyError(f"{path}: sub-topic id {s.id!r} appears twice")
                subtopics[s.id] = s
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy ({exc})") from exc
    return Taxonomy(domains, subtopics)


@lru_cache(maxsize=1)
def taxonomy() -> Taxonomy:
    """The project's taxonomy, read once on first use."""
    return load_taxonomy()
