"""Project scope: a file is checked together with what the other modules of its project export.

``layout`` finds a project's root and its modules' names; ``summary`` reads what one module
exports (CPython's ``ast``, cached by content); ``index`` resolves names across modules and finds
which module applies which init helper; ``layers`` reads the layers of a project class with the
analysis' own ``Graph``; ``view`` is what the analysis of one file asks through narrow hooks.
"""

from .index import Project, Projects  # noqa: F401
from .view import ProjectView  # noqa: F401
