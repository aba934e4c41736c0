"""Import boundaries the linters cannot see: production code never imports test code, and the
fake upstream servers (`fakes/`) never import an app of ours (they stand for the outside)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = sorted(
    path.parent.name
    for path in REPO_ROOT.glob("*/__init__.py")
    if not path.parent.name.startswith(".")
)


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _production_modules() -> Iterator[Path]:
    for package in OUR_PACKAGES:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT).parts
            if "tests" not in parts and "migrations" not in parts:
                yield path


def test_no_production_module_imports_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in _production_modules()
        for module in _imported_modules(path)
        if "tests" in module.split(".") or module.split(".")[-1] == "conftest"
    ]
    assert offenders == []


def test_the_fake_upstreams_import_no_app_of_ours() -> None:
    apps = set(OUR_PACKAGES) - {"fakes"}
    offenders = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in (REPO_ROOT / "fakes").rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in apps
    ]
    assert apps and offenders == []
