"""pre-commit runs what CI runs: the Makefile's lint, type check and migrations check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CI_TARGETS = ("lint", "typecheck", "pytest")


def _hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def _ci_checks() -> set[str]:
    """The commands of the Makefile's CI targets, with $(BIN) spelt out; the suite aside."""
    recipes = re.findall(
        r"^([a-z-]+):[^\n]*\n((?:\t[^\n]*\n)+)", (REPO / "Makefile").read_text(), re.M
    )
    commands = {
        line.strip().replace("$(BIN)", ".venv/bin")
        for target, body in recipes
        if target in CI_TARGETS
        for line in body.splitlines()
    }
    return {command for command in commands if command != ".venv/bin/pytest"}


def test_the_hooks_run_the_ci_checks_with_the_projects_own_tools() -> None:
    hooks = _hooks()

    assert {hook["entry"] for hook in hooks} == _ci_checks()
    for hook in hooks:
        assert hook["language"] == "system", hook["id"]  # nothing to download or install
        assert hook["entry"].startswith(".venv/bin/"), hook["id"]
        assert hook["pass_filenames"] is False, hook["id"]  # the whole tree, as CI checks it


def test_the_ci_checks_read_from_the_makefile_are_the_four_expected() -> None:
    assert _ci_checks() == {
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/mypy .",
        ".venv/bin/python manage.py makemigrations --check --dry-run",
    }
