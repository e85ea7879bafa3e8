"""The packages of ``bot/`` depend on each other in layers: no import cycle between them.

Every ``import bot.x…`` / ``from bot.x… import`` in a module of package ``bot.p`` (function
bodies included: an import deferred for speed is still a dependency) is an edge p → x.
A cycle between packages fails this test — except the ones listed in ``KNOWN`` until
issue #18 removes them; a known cycle that is gone must leave the list too, so the list
only shrinks.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"

#: cycles allowed for now, each as the set of its packages (none: issue #18 removed the
#: last two, api <-> web and kb <-> tickets)
KNOWN: set[frozenset[str]] = set()


def package_of(module: str) -> str | None:
    """``bot.tickets.store`` → ``tickets``; a top-level module (``bot.cli``) → itself."""
    parts = module.split(".")
    if parts[0] != "bot" or len(parts) < 2:
        return None
    return parts[1]


def dependencies() -> nx.DiGraph:
    graph = nx.DiGraph()
    for path in BOT.rglob("*.py"):
        source = package_of(".".join(path.relative_to(ROOT).with_suffix("").parts))
        graph.add_node(source)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                target = package_of(name)
                if target and target != source:
                    graph.add_edge(source, target, at=f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def cycles(graph: nx.DiGraph) -> set[frozenset[str]]:
    """The groups of packages that depend on each other (strongly connected components
    of more than one package)."""
    return {frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1}


def test_no_new_cycle_between_packages():
    graph = dependencies()
    found = cycles(graph)
    new = found - KNOWN
    where = {tuple(sorted(c)): [graph.edges[e]["at"] for e in graph.subgraph(c).edges]
             for c in new}
    assert not new, f"import cycle between packages of bot/: {where}"
    gone = KNOWN - found
    assert not gone, f"cycles {gone} are gone: remove them from KNOWN"


def test_the_api_and_the_pages_are_siblings():
    """``bot/api`` and ``bot/web`` share ``bot/http`` and import neither each other nor
    anything that builds the whole application."""
    graph = dependencies()
    for app, other in (("api", "web"), ("web", "api")):
        for forbidden in (other, "application", "cli"):
            assert not graph.has_edge(app, forbidden), graph.edges[app, forbidden]["at"]
    assert graph.has_edge("api", "http") and graph.has_edge("web", "http")


def test_the_check_sees_a_cycle():
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    assert cycles(graph) == {frozenset({"a", "b", "c"})}


def test_the_web_application_does_not_load_rasa():
    """The web/API process never handles a conversation turn: building its application
    must not import Rasa (about 50 MB of channels and their SDKs in every deployment)."""
    code = ("import sys; from bot.application import build_app; "
            "from bot.settings import load_settings; build_app(load_settings(), jobs=False); "
            "print(sorted(m for m in sys.modules if m == 'rasa' or m.startswith('rasa.')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
