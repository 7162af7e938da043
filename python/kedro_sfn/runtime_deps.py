"""What a project's nodes and datasets need installed, read off the interpreter that inspected it.

The image is built from requirement files, not from this interpreter, so the
two can drift: a package that is only installed here, a Kedro of another
line, a dataset type whose extra nobody declared, ``s3://`` without s3fs.
This module writes down what the inspected project actually imports (by
reading its source, not by guessing) and what its catalog certainly needs, so
the image can be checked against it before anything is pushed.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import inspect
import re
import sys
from pathlib import Path
from typing import Any, Iterable

# Filesystem protocols (a dataset's filepath scheme) and the fsspec package each needs.
PROTOCOL_PACKAGES = {
    "s3": "s3fs",
    "s3a": "s3fs",
    "gs": "gcsfs",
    "gcs": "gcsfs",
    "abfs": "adlfs",
    "abfss": "adlfs",
    "az": "adlfs",
}


def canonical(name: str) -> str:
    """PEP 503 normalised distribution (or extra) name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _optional_import_nodes(tree: ast.AST) -> set[int]:
    """ids of import statements that may fail by design: under ``TYPE_CHECKING`` or in a
    ``try`` that catches ImportError."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        guarded: list[ast.stmt] = []
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            guarded = node.body
        elif isinstance(node, ast.Try):
            caught = " ".join(ast.unparse(h.type) for h in node.handlers if h.type is not None)
            if not node.handlers or any(h.type is None for h in node.handlers) or re.search(
                r"ImportError|ModuleNotFoundError|Exception", caught
            ):
                guarded = node.body
        for stmt in guarded:
            skipped.update(id(n) for n in ast.walk(stmt))
    return skipped


def imported_modules(path: Path) -> set[str]:
    """Top-level module names a Python file imports unconditionally (absolute imports only)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return set()
    optional = _optional_import_nodes(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _stdlib() -> frozenset[str]:
    return frozenset(getattr(sys, "stdlib_module_names", ())) | frozenset(sys.builtin_module_names)


def required_distributions(
    sources: Iterable[tuple[Path, str]], exclude: set[str]
) -> list[dict[str, str]]:
    """Installed distributions that ``sources`` import: one entry a distribution.

    ``sources`` are (file, label) pairs; the label names who imports (a project
    file relative to the project, or a dataset type). Modules that map to no
    installed distribution (the standard library, the project's own package)
    are not listed, nor distributions in ``exclude`` (canonical names).
    """
    stdlib = _stdlib()
    owners = metadata.packages_distributions()
    found: dict[str, dict[str, str]] = {}
    for path, label in sources:
        for module in sorted(imported_modules(path)):
            if module in stdlib or module == "kedro_sfn":
                continue
            for dist in owners.get(module, []):
                name = canonical(dist)
                if name in exclude or name in found:
                    continue
                try:
                    version = metadata.version(dist)
                except metadata.PackageNotFoundError:
                    continue
                found[name] = {"distribution": name, "version": version, "module": module, "by": label}
    return [found[name] for name in sorted(found)]


def project_sources(package_dir: Path, project_path: Path) -> list[tuple[Path, str]]:
    """Every .py file of the project's package, labelled relative to the project."""
    files = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    labels = []
    for path in files:
        try:
            labels.append(str(path.relative_to(project_path)))
        except ValueError:
            labels.append(str(path))
    return list(zip(files, labels))


def dataset_class(type_name: str) -> Any | None:
    """The class a catalog ``type`` names, or None when it does not import."""
    from kedro.io.core import parse_dataset_definition

    try:
        cls, _ = parse_dataset_definition({"type": type_name})
    except Exception:  # noqa: BLE001 - the graph already warns about types that do not import
        return None
    return cls


def _kedro_datasets_extras() -> set[str]:
    try:
        return {canonical(e) for e in metadata.metadata("kedro-datasets").get_all("Provides-Extra") or []}
    except metadata.PackageNotFoundError:
        return set()


def data_requirements(datasets: dict[str, dict[str, Any]]) -> tuple[list[dict[str, str]], list[tuple[Path, str]]]:
    """Requirements the catalog certainly needs, and the dataset classes' source files.

    Each ``kedro_datasets`` type needs its kedro-datasets extra (``pandas.CSVDataset``
    -> ``kedro-datasets[pandas-csvdataset]``, when the installed kedro-datasets has
    that extra), and each remote filesystem protocol its fsspec package.
    """
    extras = _kedro_datasets_extras()
    by_requirement: dict[str, list[str]] = {}
    why: dict[str, str] = {}
    sources: list[tuple[Path, str]] = []
    seen_types: dict[str, Any] = {}
    for name in sorted(datasets):
        entry = datasets[name]
        type_name = str(entry.get("type") or "")
        if type_name and type_name not in seen_types:
            cls = seen_types[type_name] = dataset_class(type_name)
            source = inspect.getsourcefile(cls) if cls is not None else None
            if source and not cls.__module__.startswith("kedro."):
                sources.append((Path(source), f"dataset type {type_name}"))
        cls = seen_types.get(type_name)
        module = getattr(cls, "__module__", "") or ""
        if module.startswith("kedro_datasets."):
            extra = canonical(f"{module.split('.')[1]}-{cls.__name__}")
            if extra in extras:
                requirement = f"kedro-datasets[{extra}]"
                by_requirement.setdefault(requirement, []).append(name)
                why[requirement] = f"dataset type {type_name}"
        package = PROTOCOL_PACKAGES.get(str(entry.get("storage") or ""))
        if package:
            by_requirement.setdefault(package, []).append(name)
            why[package] = f"datasets on {entry['storage']}://"
    requirements = [
        {"requirement": req, "why": f"{why[req]} ({_names(by_requirement[req])})"}
        for req in sorted(by_requirement)
    ]
    return requirements, sources


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"


def runtime_profile(
    project_path: Path, package_dir: Path, datasets: dict[str, dict[str, Any]], kedro_version: str
) -> dict[str, Any]:
    """The graph's ``runtime`` extra: what the image must provide for these nodes and datasets."""
    requirements, dataset_sources = data_requirements(datasets)
    project_dists = {canonical(d) for d in metadata.packages_distributions().get(package_dir.name, [])}
    imports = required_distributions(
        [*project_sources(package_dir, project_path), *dataset_sources], exclude=project_dists
    )
    return {
        "python": ".".join(str(part) for part in sys.version_info[:3]),
        "kedro": kedro_version,
        "imports": imports,
        "data_requirements": requirements,
    }
