"""Routing a ticket to a department by (domain, sub-topic, region), read from YAML.

The rules live in an administrator-edited file (``config/routing.yml``); it is
validated when loaded, and every problem names the file and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.regions import Region, RegionTable, region_table
from bot.taxonomy import Taxonomy, taxonomy

LEVELS = ("county", "city", "province")


class RoutingFileError(ValueError):
    """The routing file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Route:
    department: str
    level: str
    rule: str  # which rule matched, for the ticket's event log
    needs_level: str | None  # a higher level the authority list requires, if any


@dataclass(frozen=True)
class Deadline:
    first_response: int  # working days
    resolution: int


@dataclass(frozen=True)
class _Rule:
    department: str
    level: str
    where: str


class RoutingRules:
    def __init__(self, defaults: dict[str, _Rule], by_subtopic: dict[str, _Rule],
                 by_region: dict[tuple[str, str], _Rule], authority: dict[str, str],
                 deadlines: dict[str, Deadline], escalation: dict[str, str]) -> None:
        self._defaults, self._by_subtopic, self._by_region = defaults, by_subtopic, by_region
        self._authority, self._deadlines = authority, deadlines
        self._escalation = escalation

    @staticmethod
    def _names(region: Region) -> dict[str, str]:
        city = region.city or region.name
        county = region.name if region.level == "county" else city
        return {"county": county, "city": city, "city_short": city.removesuffix("市")}

    def escalation_target(self, region: Region, level: str,
                          to: str | None = None) -> Route | None:
        """The department one level above ``level`` (or at ``to``); ``None`` above the
        province."""
        index = LEVELS.index(level) + 1 if to is None else LEVELS.index(to)
        if index >= len(LEVELS) or index <= LEVELS.index(level):
            return None
        target = LEVELS[index]
        department = self._escalation[target].format(**self._names(region))
        return Route(department, target, f"escalation.{target}", None)

    def route(self, domain: str, subtopic: str, region: Region) -> Route:
        rule = (self._by_region.get((region.name, subtopic))
                or (region.city and self._by_region.get((region.city, subtopic)))
                or self._by_subtopic.get(subtopic) or self._defaults[domain])
        department = rule.department.format(**self._names(region))
        required = self._authority.get(subtopic)
        needs = required if required and LEVELS.index(required) > LEVELS.index(rule.level) \
            else None
        return Route(department, rule.level, rule.where, needs)

    def deadline(self, domain: str) -> Deadline:
        return self._deadlines.get(domain, self._deadlines["default"])


def load_routing(path: Path, tax: Taxonomy | None = None,
                 regions: RegionTable | None = None) -> RoutingRules:
    tax, regions = tax or taxonomy(), regions or region_table()

    def fail(where: str, problem: str) -> RoutingFileError:
        return RoutingFileError(f"{path}: {where}: {problem}")

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingFileError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(raw, dict):
        raise RoutingFileError(f"{path}: expected a mapping with defaults, rules, deadlines")

    def rule(item: Any, where: str) -> _Rule:
        if not isinstance(item, dict) or not str(item.get("department") or "").strip():
            raise fail(where, "needs a department")
        level = item.get("level", "county")
        if level not in LEVELS:
            raise fail(where, f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        try:
            item["department"].format(county="x", city="y", city_short="z")
        except (KeyError, IndexError, ValueError):
            raise fail(where, "department may only use {county}, {city} and {city_short}"
                       ) from None
        return _Rule(item["department"], level, where)

    defaults = {}
    for domain, item in (raw.get("defaults") or {}).items():
        if domain not in tax.domains:
            raise fail(f"defaults.{domain}", "unknown domain")
        defaults[domain] = rule(item, f"defaults.{domain}")
    missing = sorted(set(tax.domains) - set(defaults))
    if missing:
        raise fail("defaults", f"no default department for {', '.join(missing)}")

    by_subtopic: dict[str, _Rule] = {}
    by_region: dict[tuple[str, str], _Rule] = {}
    for i, item in enumerate(raw.get("rules") or [], start=1):
        where = f"rule {i}"
        sub = (item or {}).get("subtopic") if isinstance(item, dict) else None
        if sub not in tax.subtopics:
            raise fail(where, f"unknown sub-topic {sub!r}")
        if item.get("domain") and item["domain"] != tax.domain_of(sub):
            raise fail(where, f"sub-topic {sub!r} is not in domain {item['domain']!r}")
        r = rule(item, where)
        if "region" in item:
            region = regions.get(str(item["region"]))
            if region is None:
                raise fail(where, f"unknown region {item['region']!r}")
            key = (region.name, sub)
            if key in by_region:
                raise fail(where, f"repeats {by_region[key].where}")
            by_region[key] = r
        else:
            if sub in by_subtopic:
                raise fail(where, f"repeats {by_subtopic[sub].where} for {sub!r}")
            by_subtopic[sub] = r

    authority: dict[str, str] = {}
    for level, subs in (raw.get("authority") or {}).items():
        if level not in LEVELS:
            raise fail(f"authority.{level}", "unknown level")
        for sub in subs or []:
            if sub not in tax.subtopics:
                raise fail(f"authority.{level}", f"unknown sub-topic {sub!r}")
            authority[sub] = level

    deadlines: dict[str, Deadline] = {}
    for key, item in (raw.get("deadlines") or {}).items():
        if key != "default" and key not in tax.domains:
            raise fail(f"deadlines.{key}", "unknown domain")
        try:
            d = Deadline(int(item["first_response"]), int(item["resolution"]))
        except (TypeError, KeyError, ValueError):
            raise fail(f"deadlines.{key}", "needs whole numbers first_response and "
                       "resolution (working days)") from None
        if not 0 < d.first_response <= d.resolution:
            raise fail(f"deadlines.{key}", "first_response must be ≥ 1 and ≤ resolution")
        deadlines[key] = d
    if "default" not in deadlines:
        raise fail("deadlines", "needs a default")

    escalation: dict[str, str] = {}
    for level in LEVELS[1:]:
        item = (raw.get("escalation") or {}).get(level)
        if item is None:
            raise fail("escalation", f"needs a department for the {level} level")
        escalation[level] = rule(item, f"escalation.{level}").department
    return RoutingRules(defaults, by_subtopic, by_region, authority, deadlines, escalation)
