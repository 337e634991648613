"""Imports that cross app boundaries: which module of one app imports a module of another.

For whoever plans an extraction: each such import is code that calls into the capability in-process and
has to become an API call, an event or a copy before the capability can leave. The modules are the
`.py` files under each app config's `path`; their `import` statements are read with `ast` (imports
inside functions included, `migrations/` left out: migrations name other apps in their dependencies,
not in imports that run). Relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ImportLink:
    """`importer` (a module of `importer_app`) imports `imported` (a module of `imported_app`) at `line`."""

    importer: str
    imported: str
    importer_app: str
    imported_app: str
    line: int

    def as_dict(self) -> dict:
        return {"importer": self.importer, "imported": self.imported, "importer_app": self.importer_app,
                "imported_app": self.imported_app, "line": self.line}


@dataclass(frozen=True, slots=True)
class ImportScan:
    """The links found, and the files that could not be read (path, reason)."""

    links: tuple[ImportLink, ...]
    unreadable: tuple[tuple[str, str], ...] = ()


def cross_app_imports(app_configs) -> ImportScan:
    """Every import from a module of one of `app_configs` into a module of another one of them."""
    packages = {config.name: config.label for config in app_configs}
    modules = dict(_modules(app_configs))  # module name -> file
    links: dict[tuple[str, str], ImportLink] = {}
    unreadable = []
    for module, path in modules.items():
        importer_app = _owner(module, packages)
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (OSError, SyntaxError, ValueError) as exc:
            unreadable.append((str(path), f"{exc.__class__.__name__}: {exc}"))
            continue
        is_package = path.name == "__init__.py"
        for imported, line in _imported_names(tree, module, is_package, modules):
            imported_app = _owner(imported, packages)
            if imported_app is None or imported_app == importer_app:
                continue
            known = links.get((module, imported))
            if known is None or line < known.line:  # keep the first statement in the file
                links[(module, imported)] = ImportLink(module, imported, importer_app, imported_app, line)
    ordered = sorted(links.values(), key=lambda link: (link.importer, link.line, link.imported))
    return ImportScan(tuple(ordered), tuple(unreadable))


def _modules(app_configs):
    """(dotted module name, file) of every .py file of the apps; a nested app's files belong to it."""
    roots = sorted(((Path(c.path), c.name) for c in app_configs), key=lambda r: len(r[0].parts), reverse=True)
    seen: set[Path] = set()
    for root, package in roots:
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(root)
            if path in seen or "migrations" in relative.parts[:-1]:
                continue
            seen.add(path)
            parts = relative.with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((package, *parts)), path


def _imported_names(tree: ast.AST, module: str, is_package: bool, known: dict):
    """(imported module, line) for each import statement; `from x import y` names x.y when y is a module."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            if base is None:
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                yield (candidate if candidate in known else base), node.lineno


def _absolute(name: str | None, level: int, package: str) -> str | None:
    if level == 0:
        return name
    parts = package.split(".")
    if level - 1 >= len(parts):
        return None  # beyond the top-level package: Python would refuse it too
    base = ".".join(parts[:len(parts) - (level - 1)])
    return f"{base}.{name}" if name else base


def _owner(module: str, packages: dict[str, str]) -> str | None:
    """Label of the app whose package holds `module` (the longest matching package name), else None."""
    best = None
    for package, label in packages.items():
        if (module == package or module.startswith(package + ".")) and (best is None or len(package) > len(best[0])):
            best = (package, label)
    return best[1] if best else None
