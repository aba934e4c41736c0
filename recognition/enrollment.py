"""Labelled photo folders: `<root>/<identity>/<photo>`, or the rows of `<root>/labels.csv`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


def labelled_photos(root: Path) -> Iterator[tuple[str, list[Path]]]:
    """(identity, photos) per identity, sorted; folders starting with `_` hold no identity."""
    labels = root / "labels.csv"
    groups: dict[str, list[Path]] = {}
    if labels.is_file():
        with labels.open(newline="") as handle:
            for row in csv.DictReader(handle):
                path = root / row["path"]
                if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
                    groups.setdefault(row["identity"], []).append(path)
    else:
        for folder in root.iterdir():
            if folder.is_dir():
                groups[folder.name] = [
                    p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                ]
    for identity in sorted(groups):
        if not identity.startswith(("_", ".")) and groups[identity]:
            yield identity, sorted(groups[identity])


def display_name(identity: str) -> str:
    """Folder names use underscores for spaces (LFW style)."""
    return identity.replace("_", " ").strip()
