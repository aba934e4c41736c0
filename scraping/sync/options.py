"""How a run works, stored in `SyncRun.options` so a resumed run works the same way."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class SyncOptions:
    images: bool = True
    max_photos: int = 5
    max_performers: int | None = None
    page_size: int = 100
    safety_margin_seconds: int = 300

    @classmethod
    def of(cls, stored: dict[str, Any]) -> SyncOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in stored.items() if k in known})

    def as_json(self) -> dict[str, Any]:
        return asdict(self)
