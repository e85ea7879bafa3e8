"""Zhejiang's administrative divisions and a matcher for their names in text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.resources import REGIONS_FILE

_SUFFIXES = ("市", "区", "县")


@dataclass(frozen=True)
class Region:
    name: str  # canonical full name: 衢州市, 龙游县
    level: str  # province | city | county
    city: str | None  # the prefecture-level city ("衢州市" for 龙游县 and for 衢州市 itself)
    code: str | None  # ticket-number prefix of the city


@dataclass(frozen=True)
class RegionTable:
    regions: dict[str, Region]  # canonical name → region
    surface: dict[str, str]  # every recognised spelling → canonical name
    pattern: re.Pattern[str]
    divisions: dict[str, str]  # division code (GB/T 2260) → canonical name

    def find(self, text: str) -> list[tuple[int, int, Region]]:
        """All region mentions in ``text`` as ``(start, end, region)``, longest match first."""
        return [(m.start(), m.end(), self.regions[self.surface[m.group()]])
                for m in self.pattern.finditer(text)]

    def registered_in(self, credit_code: str) -> Region | None:
        """Where the authority that issued a credit code sits (its characters 3–8)."""
        name = self.divisions.get(credit_code[2:8]) if len(credit_code) == 18 else None
        return self.regions.get(name) if name else None

    def get(self, name: str) -> Region | None:
        canonical = self.surface.get(name)
        return self.regions[canonical] if canonical else None


def _short_form(name: str) -> str | None:
    if name.endswith(_SUFFIXES) and len(name) >= 3:
        return name[:-1]
    return None


def load_regions(path: Path = REGIONS_FILE) -> RegionTable:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    no_short = set(raw.get("no_short") or ())
    province = raw["province"]
    regions = {province: Region(province, "province", None, None)}
    surface = {province: province, province[:-1]: province}
    for city in raw["cities"]:
        regions[city["name"]] = Region(city["name"], "city", city["name"], city["code"])
        for county in city["counties"]:
            if county in regions:
                raise ValueError(f"{path}: region {county!r} appears twice")
            regions[county] = Region(county, "county", city["name"], city["code"])
    for name in regions:
        surface[name] = name
        short = _short_form(name)
        if short and name not in no_short:
            surface.setdefault(short, name)
    for name, aliases in (raw.get("aliases") or {}).items():
        for alias in aliases:
            surface[alias] = name
    alternatives = sorted(surface, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, alternatives)))
    divisions = {str(code): name for code, name in (raw.get("division_codes") or {}).items()}
    unknown = sorted(set(divisions.values()) - set(regions))
    if unknown:
        raise ValueError(f"{path}: division codes name unknown regions {unknown}")
    return RegionTable(regions, surface, pattern, divisions)


@lru_cache(maxsize=1)
def region_table() -> RegionTable:
    """The shipped region table, read once on first use."""
    return load_regions()
