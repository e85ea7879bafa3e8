"""Running a trained model's graphs without dask.

Rasa runs its NLU and policy graphs with dask's synchronous scheduler, which orders the
graph's tasks again for every message (profiled: 8 % of a full turn). The graph does not
change while the server runs, so ``SequentialGraphRunner`` orders it once per set of
targets and calls the same nodes in that order, each with its parents' outputs as dask
passes them: a ``(name, output)`` pair, or the bare name of an input nobody provided.
``tests/test_rasa_compat.py`` checks that it gives what dask gives.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    def run(self, inputs: dict[str, Any] | None = None,
            targets: list[str] | None = None) -> dict[str, Any]:
        run_targets = tuple(targets or self._graph_schema.target_names)
        outputs: dict[str, Any] = {name: (name, value) for name, value in (inputs or {}).items()}
        try:
            for name, node, needs in self._order(run_targets):
                outputs[name] = node(*(outputs.get(parent, parent) for parent in needs))
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(outputs[target] for target in run_targets)

    def _order(self, targets: tuple[str, ...]) -> list[tuple[str, Any, tuple[str, ...]]]:
        """The nodes the targets need, each after its parents, with their parents' names."""
        orders = self.__dict__.setdefault("_orders", {})
        if targets not in orders:
            schema = self._graph_schema.minimal_graph_schema(list(targets))
            done: list[str] = []

            def visit(name: str) -> None:
                if name in done or name not in schema.nodes:
                    return  # already placed, or an input
                for parent in schema.nodes[name].needs.values():
                    visit(parent)
                done.append(name)
            for target in targets:
                visit(target)
            orders[targets] = [(name, self._instantiated_nodes[name],
                                tuple(schema.nodes[name].needs.values())) for name in done]
        return orders[targets]
