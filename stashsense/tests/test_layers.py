"""The apps form one stack and an import only goes down it (CONTRIBUTING.md, "The layers").

Every module of every app is parsed, tests and migrations aside (tests may reach for any
app's factories; migrations are frozen history). A module may import its own app and the apps
ranked below it. Three things fail:

- an import of an app ranked above (up the stack) or of the same rank (sideways);
- an import of another app placed inside a function body, the usual way to dodge an import
  cycle: the code then sits in the wrong room. `AppConfig.ready()` in `apps.py` is the one
  place where such an import is how Django is meant to be used (connecting receivers);
- a top-level package missing from RANKS, so a new app has to be placed in the stack.

Exempt is only the project wiring, which must see every app to assemble the project:
stashsense/settings.py, urls.py, wsgi.py, asgi.py, celery.py, and stashsense/views.py (the
health view reads the active index from recognition).

A top-level `fakes` package (fake upstream servers for tests and benchmarks) sits beside the
stack: it may import no app, and any module may import it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

RANKS = {
    "stashsense": 0,  # kernel: settings, errors, jobs, API keys, outbound HTTP, rate limits
    "performers": 1,  # the identity graph
    "recognition": 2,  # the engine: detect, embed, index, identify, score, cluster, evaluate
    "stash": 3,  # the user's Stash: client, library scans, plugin feedback, suggestions
    "scraping": 4,  # sources and syncs
    "bundles": 5,  # gallery bundles
    "curation": 6,  # review domain, identity resolution, dashboard
}
FAKES = "fakes"
WIRING = frozenset(
    f"stashsense/{name}.py" for name in ("settings", "urls", "wsgi", "asgi", "celery", "views")
)
SKIPPED_FOLDERS = frozenset({"tests", "migrations", "__pycache__"})


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    reason: str

    def __str__(self) -> str:
        if not self.imported:
            return f"{self.path}: {self.reason}"
        return f"{self.path}:{self.line}: imports {self.imported}: {self.reason}"


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    in_function: bool
    in_ready: bool  # inside an AppConfig.ready() body


class _ImportCollector(ast.NodeVisitor):
    """Absolute imports of one module, each with the function bodies it sits in."""

    def __init__(self) -> None:
        self.imports: list[Import] = []
        self._functions: list[str] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._functions.append(node.name)
        self.generic_visit(node)
        self._functions.pop()

    visit_FunctionDef = _function
    visit_AsyncFunctionDef = _function

    def _add(self, module: str, line: int) -> None:
        self.imports.append(
            Import(module, line, bool(self._functions), self._functions[:1] == ["ready"])
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        # A relative import cannot leave its own top-level package.
        if node.level == 0 and node.module:
            self._add(node.module, node.lineno)


def top_level_packages(root: Path) -> list[str]:
    return sorted(
        entry.name
        for entry in root.iterdir()
        if (entry / "__init__.py").is_file() and not entry.name.startswith(".")
    )


def app_modules(root: Path, package: str) -> Iterator[Path]:
    """The package's modules, tests and migrations left out."""
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).parts
        if SKIPPED_FOLDERS.intersection(parts[:-1]):
            continue
        if path.name.startswith("test") or path.name == "conftest.py":
            continue
        yield path


def module_imports(path: Path) -> list[Import]:
    collector = _ImportCollector()
    collector.visit(ast.parse(path.read_text(), filename=str(path)))
    return collector.imports


def import_violation(
    package: str, relative: str, found: Import, ours: set[str], ranks: dict[str, int]
) -> str | None:
    """Why `found`, in module `relative` of `package`, breaks the stack; None when it does not."""
    target = found.module.split(".")[0]
    if target == package or target not in ours or (target not in ranks and target != FAKES):
        return None  # own app, a library, or an unplaced package (reported once, on its own)
    if package == FAKES:
        return "fakes may import no app: it sits beside the stack, under every app"
    if target == FAKES:
        return None
    if ranks[target] > ranks[package]:
        return (
            f"goes up the stack ({package} is rank {ranks[package]}, {target} rank {ranks[target]})"
        )
    if ranks[target] == ranks[package]:
        return f"goes sideways ({package} and {target} share rank {ranks[package]})"
    ready_in_apps = relative.endswith("/apps.py") and found.in_ready
    if found.in_function and not ready_in_apps:
        return "is inside a function body: import it at the top of the module"
    return None


def layer_violations(root: Path, ranks: dict[str, int] = RANKS) -> list[Violation]:
    packages = top_level_packages(root)
    violations = [
        Violation(
            f"{name}/", 0, "", "a top-level package missing from RANKS: place it in the stack"
        )
        for name in packages
        if name not in ranks and name != FAKES
    ]
    ours = set(packages)
    for package in (name for name in packages if name in ranks or name == FAKES):
        for path in app_modules(root, package):
            relative = path.relative_to(root).as_posix()
            if relative in WIRING:
                continue
            for found in module_imports(path):
                reason = import_violation(package, relative, found, ours, ranks)
                if reason:
                    violations.append(Violation(relative, found.line, found.module, reason))
    return violations


def report(violations: list[Violation]) -> str:
    lines = "\n".join(f"  {violation}" for violation in violations)
    return f"{len(violations)} import(s) break the app stack (see stashsense/tests/test_layers.py):\n{lines}"


def test_every_app_imports_only_the_apps_below_it() -> None:
    violations = layer_violations(REPO_ROOT)
    assert not violations, report(violations)


def test_every_top_level_package_of_the_repository_has_a_rank() -> None:
    assert set(top_level_packages(REPO_ROOT)) - {FAKES} == set(RANKS)


def empty_packages(root: Path) -> list[str]:
    """Packages that hold nothing but an empty __init__.py (a room with no code in it)."""
    return sorted(
        init.parent.relative_to(root).as_posix()
        for package in top_level_packages(root)
        for init in (root / package).rglob("__init__.py")
        if init.stat().st_size == 0
        and not [
            entry
            for entry in init.parent.iterdir()
            if entry.name not in ("__init__.py", "__pycache__")
        ]
    )


def test_no_package_is_an_empty_init_alone() -> None:
    assert empty_packages(REPO_ROOT) == [], "remove the empty packages (or put code in them)"


# The checker itself, on small synthetic trees.


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name in RANKS:
        (root / name).mkdir(exist_ok=True)
        (root / name / "__init__.py").touch()
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        init = path.parent / "__init__.py"
        if not init.exists() and path.parent != root:
            init.touch()
    return root


def _found(root: Path) -> list[str]:
    return [str(violation) for violation in layer_violations(root)]


def test_the_checker_reports_an_import_up_the_stack_with_file_line_and_module(
    tmp_path: Path,
) -> None:
    root = _tree(
        tmp_path,
        {"performers/services.py": '"""x"""\n\nfrom curation.models import ReviewItem\n'},
    )

    assert _found(root) == [
        "performers/services.py:3: imports curation.models: goes up the stack "
        "(performers is rank 1, curation rank 6)"
    ]


def test_the_checker_accepts_imports_down_the_stack_and_within_an_app(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "curation/services.py": (
                "import numpy\nfrom performers.models import Performer\n"
                "import recognition.engine\nfrom curation.models import ReviewItem\n"
                "from . import selectors\n"
            ),
            "stash/client.py": "def f():\n    from stash.models import SceneScan\n",
        },
    )

    assert _found(root) == []


def test_the_checker_reports_cross_app_imports_in_function_bodies_but_not_in_ready(
    tmp_path: Path,
) -> None:
    root = _tree(
        tmp_path,
        {
            "scraping/tasks.py": "def run():\n    from recognition.services import index_build\n",
            "curation/apps.py": (
                "class CurationConfig:\n    def ready(self):\n        from scraping import signals\n"
            ),
            "bundles/apps.py": "class Config:\n    def other(self):\n        import performers\n",
        },
    )

    assert _found(root) == [
        "bundles/apps.py:3: imports performers: is inside a function body: "
        "import it at the top of the module",
        "scraping/tasks.py:2: imports recognition.services: is inside a function body: "
        "import it at the top of the module",
    ]


def test_the_checker_leaves_out_tests_migrations_and_the_project_wiring(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "performers/tests/factories.py": "from curation.models import ReviewItem\n",
            "performers/test_helpers.py": "from curation.models import ReviewItem\n",
            "performers/migrations/0001_initial.py": "from curation.models import ReviewItem\n",
            "stashsense/urls.py": "from curation import urls\n",
            "stashsense/views.py": "from recognition.selectors import active_index_summary\n",
        },
    )

    assert _found(root) == []


def test_an_empty_package_is_found_and_one_with_a_module_is_not(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"curation/api/__init__.py": "", "stash/api/urls.py": "urls = []\n"})

    found = empty_packages(root)

    assert "curation/api" in found and "stash/api" not in found


def test_the_checker_asks_for_a_rank_for_a_new_top_level_package(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"newapp/__init__.py": "", "newapp/models.py": "import curation\n"})

    assert _found(root) == [
        "newapp/: a top-level package missing from RANKS: place it in the stack"
    ]


def test_the_checker_lets_every_app_use_fakes_and_fakes_use_no_app(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "fakes/__init__.py": "import json\n",
            "fakes/stashbox.py": "from stashsense.http import OutboundClient\n",
            "scraping/benchmarks.py": "from fakes import FakeStashBox\n",
        },
    )

    assert _found(root) == [
        "fakes/stashbox.py:1: imports stashsense.http: fakes may import no app: "
        "it sits beside the stack, under every app"
    ]


@pytest.mark.parametrize("statement", ["import bundles.models", "from bundles import models"])
def test_the_checker_reports_both_import_forms_going_sideways_or_up(
    tmp_path: Path, statement: str
) -> None:
    root = _tree(tmp_path, {"scraping/sync/run.py": f"{statement}\n"})

    assert [violation.path for violation in layer_violations(root)] == ["scraping/sync/run.py"]
    ranks = {**RANKS, "bundles": RANKS["scraping"]}
    assert "sideways" in str(layer_violations(root, ranks)[0])
