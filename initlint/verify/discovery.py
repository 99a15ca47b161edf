"""Find the model in ``model.py``: import it (showing the user's own traceback when that fails) and pick
the entry: ``--entry NAME``, else a module-level ``build_model``/``make_model``/``create_model``/
``get_model``, else the only model object, else an error that lists the candidates."""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os
import sys
import traceback
from typing import Any, Callable, List, Optional, Sequence, Tuple

from .adapters import framework_of
from .adapters.base import VerifyError
from .errors import Interrupted, Stop, UserExit
from .recording import is_user_file

_OWN = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the initlint package
BUILDERS = ("build_model", "make_model", "create_model", "get_model")
_IMPORT_ROOTS = {"torch": "torch", "tensorflow": "keras", "keras": "keras", "tf_keras": "keras", "flax": "flax",
                 "jax": "flax",
                 # libraries whose models are torch modules: transformers 5 imports torch only when a model class
                 # is first used, so a file that does `import transformers` and builds in build_model() would
                 # import torch inside the build, its generator unseeded and its initialisers unrecorded
                 "transformers": "torch", "timm": "torch", "torchvision": "torch", "diffusers": "torch",
                 "peft": "torch"}


def frameworks_in_source(source: str) -> List[str]:
    """The frameworks a file imports (its own import statements, anywhere in it), in first-seen order."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: List[str] = []
    for node in ast.walk(tree):
        names: Sequence[str] = ()
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        for name in names:
            framework = _IMPORT_ROOTS.get(name.split(".")[0])
            if framework and framework not in found:
                found.append(framework)
    return found


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception raised by the user's code, from its first user frame on (the
    frames of initlint and importlib that led there are noise)."""
    frames = traceback.extract_tb(exc.__traceback__)
    start = next((i for i, f in enumerate(frames) if is_user_file(f.filename)), 0)
    end = len(frames)
    while end > start + 1 and frames[end - 1].filename.startswith(_OWN):  # initlint's interception of os._exit
        end -= 1
    lines = ["Traceback (most recent call last):\n"]
    lines += traceback.format_list(frames[start:end])
    if isinstance(exc, UserExit):
        lines.append(f"{exit_call(exc)} was called\n")
    else:
        lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def exit_call(exc: SystemExit) -> str:
    """``sys.exit(3)`` / ``os._exit(0)``: what the user's code called, as they wrote it."""
    how = getattr(exc, "how", "sys.exit")
    return f"{how}()" if exc.code is None else f"{how}({exc.code!r})"


def raised(exc: BaseException) -> str:
    """``ValueError: bad shape``, or only ``KeyboardInterrupt`` when there is no message."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def has_user_frame(exc: BaseException) -> bool:
    """Whether the user's own code is on the exception's traceback (else the error is initlint's or a
    framework's own, and must not be blamed on the model)."""
    return any(is_user_file(f.filename) for f in traceback.extract_tb(exc.__traceback__))


def load_module(path: str):
    """Import ``path`` as a fresh module (its directory first on sys.path, as ``python model.py`` has)."""
    if not os.path.isfile(path):
        raise VerifyError(f"{path}: no such file")
    directory = os.path.dirname(os.path.abspath(path))
    name = "_initlint_model_" + "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    spec = importlib.util.spec_from_file_location(name, os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise VerifyError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, directory)
    try:
        spec.loader.exec_module(module)
    except (Stop, Interrupted):  # a timeout, the memory limit, Ctrl-C: the runner's to report
        raise
    except SystemExit as exc:
        raise VerifyError(f"{path}: importing it called {exit_call(exc)}", user_traceback(exc))
    except BaseException as exc:  # KeyboardInterrupt too: raised by the user's code, not by Ctrl-C
        raise VerifyError(f"{path}: importing it raised {raised(exc)}", user_traceback(exc))
    finally:
        try:
            sys.path.remove(directory)
        except ValueError:  # pragma: no cover
            pass
    return module


def looks_like_model(obj: Any) -> bool:
    """A model object of a supported framework (decided from its type's modules: imports nothing)."""
    if inspect.isclass(obj) or inspect.ismodule(obj) or inspect.isroutine(obj):
        return False
    framework = framework_of(obj)
    if framework is None:
        return False
    if isinstance(obj, tuple):
        return True
    names = {f"{c.__module__}.{c.__qualname__}" for c in type(obj).__mro__}
    if framework == "torch":
        return "torch.nn.modules.module.Module" in names
    if framework == "keras":
        return any(n.endswith(".Layer") and n.startswith("keras") for n in names)
    return "flax.linen.module.Module" in names or any(n.startswith("flax.nnx") for n in names)


def find_entry(module, entry: Optional[str], path: str) -> Tuple[str, Any]:
    """(name, object): a zero-argument callable to build the model, or the model itself."""
    namespace = vars(module)
    if entry:
        target: Any = module
        for part in entry.split("."):
            if not hasattr(target, part):
                raise VerifyError(f"{path}: no {entry!r} in it; candidates: {', '.join(candidates(module)) or 'none'}")
            target = getattr(target, part)
        return entry, target
    for name in BUILDERS:
        if callable(namespace.get(name)):
            return name, namespace[name]
    models = [name for name, value in namespace.items() if not name.startswith("_") and looks_like_model(value)]
    if len(models) == 1:
        return models[0], namespace[models[0]]
    found = candidates(module)
    if models:
        raise VerifyError(f"{path}: {len(models)} model objects ({', '.join(models)}); choose one with --entry NAME")
    raise VerifyError(f"{path}: no build_model/make_model/create_model/get_model function and no model object; "
                      f"choose one with --entry NAME (candidates: {', '.join(found) or 'none'})")


def candidates(module) -> List[str]:
    """Functions defined in the module that can be called without arguments, and model objects."""
    out = []
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        if inspect.isfunction(value) and getattr(value, "__module__", None) == module.__name__:
            try:
                required = [p for p in inspect.signature(value).parameters.values()
                            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            except (TypeError, ValueError):  # pragma: no cover
                required = []
            if not required:
                out.append(f"{name}()")
        elif looks_like_model(value):
            out.append(name)
    return out


def call_entry(name: str, target: Any) -> Any:
    """Build the model: call ``target`` if it is a builder; the user's exception becomes a VerifyError."""
    if looks_like_model(target):
        return target
    if inspect.isclass(target) or callable(target):
        try:
            return target()
        except (Stop, Interrupted):
            raise
        except SystemExit as exc:
            raise VerifyError(f"{name}() called {exit_call(exc)}", user_traceback(exc))
        except BaseException as exc:
            raise VerifyError(f"{name}() raised {raised(exc)}", user_traceback(exc))
    return target


def describe(obj: Any) -> str:
    """The qualified name of ``obj``'s type."""
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


Builder = Callable[[], Any]
