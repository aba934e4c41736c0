"""What every dashboard page is held to in Chromium: axe-core finds nothing serious, the
page's own resources stay under a weight budget, and a screenshot is kept to look at."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.10.2"
PAGE_BUDGET_BYTES = 100 * 1024
SERIOUS = ("serious", "critical")
# Content, not the page: face crops and scene thumbnails grow with the data shown.
CONTENT_IMAGES = ("/crop.jpg", "/thumbnail")


@cache
def axe_source() -> str:
    """axe.min.js from the npm package (npm's own client), cached under var/."""
    cached = REPO_ROOT / "var" / "test-cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if not cached.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("needs npm to fetch axe-core")
        with tempfile.TemporaryDirectory(prefix="stashsense-axe-") as download:
            command = [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", download]
            subprocess.run([*command, "--silent"], check=True, timeout=300, capture_output=True)
            with tarfile.open(next(Path(download).glob("axe-core-*.tgz"))) as tar:
                member = tar.extractfile("package/axe.min.js")
                assert member is not None
                cached.parent.mkdir(parents=True, exist_ok=True)
                cached.write_bytes(member.read())
    return cached.read_text()


def serious_violations(page: Any, within: str = "") -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (or in the parts
    that match the CSS selector `within`)."""
    page.add_script_tag(content=axe_source())
    result = page.evaluate(
        "within => axe.run(within ? { include: [[within]] } : document,"
        " { resultTypes: ['violations'] })",
        within,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]


class PageWeight:
    """Bytes of what a page loads from our own server, content images aside."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.base_url = base_url
        self.sizes: dict[str, int] = {}
        page.on("response", self._count)

    def _count(self, response: Any) -> None:
        url = response.url
        if not url.startswith(self.base_url) or any(part in url for part in CONTENT_IMAGES):
            return
        try:
            self.sizes[url] = len(response.body())
        except Exception:  # a redirect has no body to count
            self.sizes.setdefault(url, 0)

    def reset(self) -> None:
        self.sizes.clear()

    @property
    def total(self) -> int:
        return sum(self.sizes.values())


def screenshot_dir() -> Path:
    """Where the browser tests leave their screenshots, to look at after a run."""
    directory = Path(tempfile.gettempdir()) / "stashsense-screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def screenshot(page: Any, name: str) -> Path:
    path = screenshot_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
