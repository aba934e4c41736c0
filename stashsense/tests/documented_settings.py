"""What the code reads from the environment and what the README's configuration table lists
(shared by the README and Unraid template tests)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
# Where the server and its image read their environment.
READERS = ["stashsense/settings.py", "stashsense/environment.py", "docker/entrypoint.sh"]
PYTHON_READ = re.compile(
    r"""(?:\bread_\w+|\benv\.\w+|os\.environ\.get|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)
SHELL_READ = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")
# Read, but not configuration: set by the entry points themselves.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE"}


def variables_read() -> dict[str, str]:
    """Every environment variable the code reads → the file that reads it."""
    found: dict[str, str] = {}
    for name in READERS:
        text = (REPO / name).read_text()
        pattern = SHELL_READ if name.endswith(".sh") else PYTHON_READ
        for variable in pattern.findall(text):
            found.setdefault(variable, name)
    return {k: v for k, v in found.items() if k not in NOT_SETTINGS}


def configuration_rows() -> set[str]:
    """The variables named in the first cell of the README's configuration table."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            rows |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return rows
