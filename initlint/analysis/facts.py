"""``analyse(module)``: the facts of one file, computed once and read by every rule."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import List, Optional

import libcst as cst

from .callsites import call_site_variants
from .collector import Collected, collect
from .flow import ValueFlow
from .graph import Graph
from .inits import InitIndex, InitUse
from .values import Evaluator


@dataclass(eq=False)
class FileFacts:
    module: cst.Module
    collected: Collected
    evaluator: Evaluator
    graph: Graph
    inits: InitIndex
    flow: ValueFlow

    @property
    def init_uses(self) -> List[InitUse]:
        return self.inits.uses

    @functools.cached_property
    def variants(self):
        """``(use, variant)``: initialiser uses restated for each call site that fills their
        parameters differently (``callsites.py``); the engine runs rules on them too."""
        return call_site_variants(self)

    def names(self, node: cst.CSTNode):
        """Every qualified name ``node`` may refer to."""
        return self.evaluator.names(node)

    def value(self, node: Optional[cst.CSTNode]):
        return self.evaluator.evaluate(node)


def analyse(module: cst.Module, package: Optional[str] = None, project=None) -> FileFacts:
    """``project``: a ``project.view.ProjectView`` when the file is checked as part of a project."""
    collected = collect(module, package)
    collected.resolver.project = project
    evaluator = Evaluator(collected.resolver)
    flow = evaluator.flow = ValueFlow(collected)
    graph = Graph(collected, evaluator)
    inits = InitIndex(collected, graph, evaluator)
    return FileFacts(module, collected, evaluator, graph, inits, flow)
