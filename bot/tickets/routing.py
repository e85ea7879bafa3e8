"""Routing a ticket to a department by (domain, sub-topic, region), read from YAML.

The rules live in an administrator-edited file (``config/routing.yml``); it is
validated when loaded (the pydantic models at the end of this module), and every problem
names the file and the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ValidationError, root_validator, validator

from bot.regions import Region, RegionTable, region_table
from bot.taxonomy import Taxonomy, taxonomy

Level = Literal["county", "city", "province"]
LEVELS: tuple[str, ...] = get_args(Level)


class RoutingFileError(ValueError):
    """The routing file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Route:
    department: str
    level: str
    rule: str  # which rule matched, for the ticket's event log
    needs_level: str | None  # a higher level the authority list requires, if any


class Deadline(BaseModel, frozen=True):
    first_response: int  # working days
    resolution: int

    @root_validator(skip_on_failure=True)
    def _order(cls, values: dict[str, int]) -> dict[str, int]:
        if not 0 < values["first_response"] <= values["resolution"]:
            raise ValueError("first_response must be ≥ 1 and ≤ resolution")
        return values


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
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RoutingFileError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(raw, dict):
        raise RoutingFileError(f"{path}: expected a mapping with defaults, rules, deadlines")
    try:  # an empty section (``rules:``) counts as absent
        spec = _RoutingFile.parse_obj({**{k: v for k, v in raw.items() if v is not None},
                                       "tax": tax or taxonomy(),
                                       "regions": regions or region_table()})
    except ValidationError as exc:
        where, problem = _located(exc.errors()[0])
        raise RoutingFileError(f"{path}: {where}: {problem}") from None

    rules = {(r.region, r.subtopic): r.at(f"rule {i}") for i, r in enumerate(spec.rules, 1)}
    return RoutingRules(
        {domain: r.at(f"defaults.{domain}") for domain, r in spec.defaults.items()},
        {sub: r for (region, sub), r in rules.items() if region is None},
        {key: r for key, r in rules.items() if key[0] is not None},
        {sub: level for level, subs in spec.authority.items() for sub in subs or []},
        spec.deadlines,
        {level: getattr(spec.escalation, level).department for level in LEVELS[1:]})


class _Problem(ValueError):
    """A validator's finding about a part of a section (``rule 3``, ``defaults.x``):
    pydantic passes ``where`` on in the error's context."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(problem)
        self.where = where


class _RuleSpec(BaseModel):
    department: str | None = None
    level: Level = "county"

    @validator("department", always=True)
    def _department(cls, value: str | None) -> str:
        if not (value or "").strip():
            raise ValueError("needs a department")
        try:
            value.format(county="x", city="y", city_short="z")
        except (KeyError, IndexError, ValueError):
            raise ValueError("department may only use {county}, {city} and {city_short}"
                             ) from None
        return value

    def at(self, where: str) -> _Rule:
        return _Rule(self.department, self.level, where)


class _SubtopicRule(_RuleSpec):
    subtopic: str
    domain: str | None = None
    region: str | None = None  # a region's canonical name once validated


class _Escalation(BaseModel):
    city: _RuleSpec
    province: _RuleSpec


class _RoutingFile(BaseModel):
    """The routing file. Pydantic 1 has no validation context: the taxonomy and the region
    table come as the first two fields, and the validators after them read ``values``."""

    tax: Any
    regions: Any
    defaults: dict[str, _RuleSpec] = {}
    rules: list[_SubtopicRule] = []
    authority: dict[str, list[str] | None] = {}
    deadlines: dict[str, Deadline] = {}
    escalation: _Escalation

    @validator("defaults", always=True)
    def _domains(cls, defaults: dict, values: dict) -> dict:
        tax = values["tax"]
        for domain in defaults:
            if domain not in tax.domains:
                raise _Problem(f"defaults.{domain}", "unknown domain")
        missing = sorted(set(tax.domains) - set(defaults))
        if missing:
            raise ValueError(f"no default department for {', '.join(missing)}")
        return defaults

    @validator("rules")
    def _names(cls, rules: list[_SubtopicRule], values: dict) -> list:
        tax, seen, checked = values["tax"], {}, []
        for i, rule in enumerate(rules, start=1):
            where, sub = f"rule {i}", rule.subtopic
            if sub not in tax.subtopics:
                raise _Problem(where, f"unknown sub-topic {sub!r}")
            if rule.domain and rule.domain != tax.domain_of(sub):
                raise _Problem(where, f"sub-topic {sub!r} is not in domain {rule.domain!r}")
            if rule.region is not None:
                region = values["regions"].get(rule.region)
                if region is None:
                    raise _Problem(where, f"unknown region {rule.region!r}")
                rule = rule.copy(update={"region": region.name})
            if (rule.region, sub) in seen:
                raise _Problem(where, f"repeats rule {seen[rule.region, sub]}"
                               + ("" if rule.region else f" for {sub!r}"))
            seen[rule.region, sub] = i
            checked.append(rule)
        return checked

    @validator("authority")
    def _levels(cls, authority: dict, values: dict) -> dict:
        for level, subs in authority.items():
            if level not in LEVELS:
                raise _Problem(f"authority.{level}", "unknown level")
            unknown = [sub for sub in subs or [] if sub not in values["tax"].subtopics]
            if unknown:
                raise _Problem(f"authority.{level}", f"unknown sub-topic {unknown[0]!r}")
        return authority

    @validator("deadlines", always=True)
    def _default(cls, deadlines: dict, values: dict) -> dict:
        for key in deadlines:
            if key != "default" and key not in values["tax"].domains:
                raise _Problem(f"deadlines.{key}", "unknown domain")
        if "default" not in deadlines:
            raise ValueError("needs a default")
        return deadlines


def _located(error: dict[str, Any]) -> tuple[str, str]:
    """(where, problem) of a pydantic error: ``rule 3``, ``deadlines.finance``...; the
    field is named unless the message is one of ours."""
    if "where" in error.get("ctx", {}):
        return error["ctx"]["where"], error["msg"]
    loc = [str(part) for part in error["loc"] if part != "__root__"]
    where = f"rule {int(loc[1]) + 1}" if loc[0] == "rules" and len(loc) > 1 \
        else ".".join(loc[:2])
    field = ".".join(loc[2:])
    ours = error["type"] == "value_error"
    return where, error["msg"] if ours or not field else f"{field}: {error['msg']}"
