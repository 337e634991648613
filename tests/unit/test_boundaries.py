"""The package boundaries of STYLE.md, checked on the import statements themselves (ast, not grep):
the router speaks HTTP only, services never import the monolith or the router, and services share code
only through extracted/common."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(package: str, forbidden) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(_imports(path)):
            if forbidden(path, name):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _service_of(path: Path) -> str:
    return path.relative_to(ROOT / "extracted").parts[0]


def test_the_router_imports_neither_the_monolith_nor_a_service():
    assert _violations("router", lambda path, name: _top(name) in {"legacy_monolith", "extracted", "strangler"}) == []


def test_services_import_neither_the_monolith_nor_the_router():
    assert _violations("extracted", lambda path, name: _top(name) in {"legacy_monolith", "router", "strangler"}) == []


def test_services_share_code_only_through_extracted_common():
    def crosses(path: Path, name: str) -> bool:
        parts = name.split(".")
        if parts[0] != "extracted" or len(parts) < 2:
            return False
        return parts[1] not in {"common", _service_of(path)}

    assert _violations("extracted", crosses) == []


def test_the_monolith_imports_none_of_the_toolkit():
    assert _violations("legacy_monolith", lambda path, name: _top(name) in {"router", "extracted", "strangler"}) == []


@pytest.mark.parametrize("package", ["router", "extracted", "legacy_monolith", "strangler"])
def test_the_checked_packages_exist(package):
    """A renamed package would make the checks above pass vacuously."""
    assert any((ROOT / package).rglob("*.py"))
