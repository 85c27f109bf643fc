"""Packages whose ``__init__`` runs only when one of its own names is used, not when a submodule is imported; and
plain modules whose body runs only when one of their names is used.

Python runs a package's ``__init__`` before any of its submodules, and moto's are heavy for a server:
``import moto.s3.models`` runs ``moto/__init__`` and ``moto/core/__init__``, which import ``mock_aws`` and with it
boto3 and responses (only a decorator needs them); ``import moto.cloudformation.exceptions`` runs
``moto/cloudformation/__init__``, which imports every service moto has.

``defer()`` registers the package in ``sys.modules`` before anything imports it: a real module object made from
the package's own spec (``__path__``, ``__file__``, loader), so its submodules import as usual. The constants the
manifest gives are there at once; the first use of any other name the real ``__init__`` defines (or a submodule it
imports, which importing binds on the package) runs that ``__init__`` inside the module, which from then on is
exactly the real package. A plain module is deferred the same way: ``moto.core.utils`` imports
``botocore.session.Session`` for one function, and the module's import brings botocore's whole client layer.
Each deferral is declared in ``localcloud.patches.LAZY_PACKAGES`` and ``problems()`` checks the declaration against
the installed source (statically: reading it never imports it).
"""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class LazyPackage:
    package: str  # "moto.core" (a package, or a plain module: "botocore.session")
    deferred: tuple[str, ...]  # every other name its __init__ defines: using one runs the __init__ ("*": all)
    constants: tuple[tuple[str, Any], ...]  # names given without running the __init__, with their values
    why: str
    # Names imported by name at start-up (``from boto3 import Session``) but only called later: each is given at
    # once as a stand-in that runs the __init__ when called, then calls the real one.
    stand_ins: tuple[str, ...] = ()


def _spec(package: str) -> importlib.machinery.ModuleSpec:
    """The module's spec, found without importing its parents (``find_spec`` would run their ``__init__``)."""
    parent, _, _ = package.rpartition(".")
    path = list(_spec(parent).submodule_search_locations or []) if parent else None
    spec = importlib.machinery.PathFinder.find_spec(package, path)
    if spec is None or spec.origin is None:
        raise ImportError(f"{package} is not an installed package")
    return spec


def _tree(source_file: str) -> ast.Module:
    with open(source_file, encoding="utf-8") as handle:
        return ast.parse(handle.read())


def _bindings(source_file: str) -> dict[str, ast.expr | None]:
    """The names a module's top level binds: each with its literal value, or None when it is not a literal."""
    found: dict[str, ast.expr | None] = {}
    for node in _tree(source_file).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value if isinstance(node.value, ast.Constant) else None
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = None
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                found[(alias.asname or alias.name).partition(".")[0]] = None
    return found


def _constant_in(spec: importlib.machinery.ModuleSpec, name: str) -> Any:
    """The literal value ``name`` has in the package's ``__init__``, or in the sibling module it is imported from."""
    for node in _tree(spec.origin).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and any(a.name == name for a in node.names):
            sibling = importlib.machinery.PathFinder.find_spec(
                f"{spec.name}.{node.module}", spec.submodule_search_locations
            )
            value = _bindings(sibling.origin).get(name) if sibling else None
            return value.value if isinstance(value, ast.Constant) else None
    value = _bindings(spec.origin).get(name)
    return value.value if isinstance(value, ast.Constant) else None


def problems(packages: Iterable[LazyPackage]) -> list[str]:
    """Where a declaration no longer matches the installed package's ``__init__`` (empty when all fit)."""
    found = []
    for declared in packages:
        try:
            spec = _spec(declared.package)
        except ImportError:
            found.append(f"{declared.package} (deferred) is not an installed package.")
            continue
        defines = set(_bindings(spec.origin)) - {"annotations"}
        declared_names = set(declared.deferred) | set(declared.stand_ins) | {name for name, _ in declared.constants}
        if declared.deferred == ("*",) and not set(declared.stand_ins) <= defines:
            found.append(
                f"{declared.package} no longer defines {sorted(set(declared.stand_ins) - defines)}; the deferral "
                "gives stand-ins for them."
            )
        elif declared.deferred != ("*",) and defines != declared_names:
            found.append(
                f"{declared.package}/__init__ now defines {sorted(defines)}; the deferral was written for "
                f"{sorted(declared_names)}."
            )
        for name, value in declared.constants:
            actual = _constant_in(spec, name)
            if actual != value:
                found.append(f"{declared.package}.{name} is now {actual!r}; the deferral gives {value!r}.")
    return found


def resolve(declared: LazyPackage) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What ``defer()`` needs from the source: the names whose use runs the real ``__init__`` (or module body), and,
    for a plain module, the submodules of its parent that its ``import parent.sub`` statements bind there.

    The first are the declared names (for ``"*"``, every name the source binds) and the submodules a package's
    ``__init__`` imports, which importing binds on the package (``requests.api``)."""
    spec = _spec(declared.package)
    names = set(declared.deferred)
    if declared.deferred == ("*",):
        names = set(_bindings(spec.origin)) - {"annotations"} - {name for name, _ in declared.constants}
    return tuple(sorted(names | _submodules_bound(spec))), tuple(sorted(_parent_submodules_bound(spec)))


def defer(declared: LazyPackage, resolved: Sequence[Sequence[str]] | None = None) -> bool:
    """Register the package unexecuted (False, doing nothing, when it is already imported).

    ``resolved`` is its ``resolve()`` when that is known (from a stamp), so the source need not be read."""
    parent, _, child = declared.package.rpartition(".")
    if parent and parent not in sys.modules:
        importlib.import_module(parent)  # a plain parent (a deferred one is registered before its children)
    if declared.package in sys.modules:
        return False
    spec = _spec(declared.package)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(declared.constants)
    names, on_parent = resolve(declared) if resolved is None else resolved  # a stamp's are JSON lists
    declared = LazyPackage(declared.package, tuple(names), declared.constants, declared.why, declared.stand_ins)
    run_init = _runs_init_on_first_use(module, spec, declared)
    module.__getattr__ = run_init  # type: ignore[method-assign]
    for name in declared.stand_ins:
        module.__dict__[name] = _stand_in(name, run_init)
    sys.modules[declared.package] = module
    if parent:
        setattr(sys.modules[parent], child, module)  # what importing it would have bound
        if on_parent:
            _parent_runs_it_first(sys.modules[parent], frozenset(on_parent), run_init)
    return True


def _parent_runs_it_first(parent: ModuleType, names: frozenset[str], run_init: Any) -> None:
    """A deferred module's ``import botocore.client`` would have bound ``client`` on its parent package, and code
    relies on that (``botocore.client.BaseClient`` in an annotation, after a plain ``import botocore``). So the
    first use of such a name on the parent runs the deferred module's body, which imports and binds it."""
    if "__getattr__" in vars(parent):
        raise ImportError(f"{parent.__name__} has a __getattr__ of its own: its deferred submodule cannot hook it")

    def __getattr__(name: str) -> Any:
        if name in names:
            vars(parent).pop("__getattr__", None)
            run_init(_ANY_NAME)
            if name in vars(parent):
                return vars(parent)[name]
        raise AttributeError(f"module {parent.__name__!r} has no attribute {name!r}")

    parent.__getattr__ = __getattr__  # type: ignore[method-assign]


_ANY_NAME = object()  # runs a deferred module's body, whatever names it defines


def _submodules_bound(spec: importlib.machinery.ModuleSpec) -> set[str]:
    """The submodules a package's ``__init__`` imports (``from .api import get``, ``from . import utils``)."""
    if spec.submodule_search_locations is None:
        return set()
    found = set()
    for node in _tree(spec.origin).body:
        if not isinstance(node, ast.ImportFrom):
            continue
        absolute = node.module or ""
        if node.level == 1:
            inside = absolute
        elif node.level == 0 and (absolute == spec.name or absolute.startswith(f"{spec.name}.")):
            inside = absolute[len(spec.name) + 1 :]
        else:
            continue
        if inside:
            found.add(inside.partition(".")[0])
        else:
            found.update(alias.name for alias in node.names if _is_submodule(spec, alias.name))
    return found


def _parent_submodules_bound(spec: importlib.machinery.ModuleSpec) -> set[str]:
    """The parent's submodules a plain module imports as ``import parent.sub`` (``import botocore.client``)."""
    parent = spec.name.rpartition(".")[0]
    if spec.submodule_search_locations is not None or not parent:
        return set()
    found = set()
    for node in _tree(spec.origin).body:
        if isinstance(node, ast.Import):
            found.update(
                alias.name[len(parent) + 1 :].partition(".")[0]
                for alias in node.names
                if alias.asname is None and alias.name.startswith(f"{parent}.")
            )
    return found


def _is_submodule(spec: importlib.machinery.ModuleSpec, name: str) -> bool:
    return importlib.machinery.PathFinder.find_spec(f"{spec.name}.{name}", spec.submodule_search_locations) is not None


def _runs_init_on_first_use(module: ModuleType, spec: importlib.machinery.ModuleSpec, declared: LazyPackage):
    lock = threading.RLock()  # reentrant: the __init__ may itself look its names up while it runs
    state = {"ran": False}

    def __getattr__(name: Any) -> Any:
        if name is _ANY_NAME or name in declared.deferred or name in declared.stand_ins:
            with lock:
                if not state["ran"]:
                    state["ran"] = True
                    spec.loader.exec_module(module)
                    module.__dict__.pop("__getattr__", None)
            if name in module.__dict__ or name is _ANY_NAME:  # now the real one (a stand-in's name included)
                return module.__dict__.get(name)
        raise AttributeError(f"module {declared.package!r} has no attribute {name!r}")

    return __getattr__


def _stand_in(name: str, run_init: Any) -> Any:
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        return run_init(name)(*args, **kwargs)

    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in
