"""The feed's settings: a bad value stops start-up naming the variable; a feed is checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stashsense.tests.test_settings import REPO, _start


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STASHSENSE_BUNDLE_FEED", "ftp://feeds.example.org/feed.json"),
        ("STASHSENSE_BUNDLE_FEED", "https://"),
        ("STASHSENSE_BUNDLE_FEED_INTERVAL_MINUTES", "0"),
        ("STASHSENSE_BUNDLE_FEED_INTERVAL_MINUTES", "hourly"),
    ],
)
def test_a_malformed_feed_setting_stops_start_up_with_its_name(
    name: str, value: str, tmp_path: Path
) -> None:
    result = _start({name: value}, tmp_path)
    assert result.returncode != 0
    assert name in result.stderr


def test_a_configured_feed_is_checked_on_the_beat_schedule(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from django.conf import settings; "
        "entry = settings.CELERY_BEAT_SCHEDULE['bundles-feed-check']; "
        "print(entry['task'], entry['schedule'], settings.STASHSENSE_BUNDLE_FEED_HOSTS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={
            "DJANGO_SETTINGS_MODULE": "stashsense.settings",
            "STASHSENSE_DATA_DIR": str(tmp_path),
            "STASHSENSE_BUNDLE_FEED": "https://feeds.example.org/gallery/feed.json",
            "STASHSENSE_BUNDLE_FEED_INTERVAL_MINUTES": "90",
            "STASHSENSE_BUNDLE_FEED_HOSTS": " CDN.example.org ,",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["bundles.feed_check", "5400.0", "['cdn.example.org']"]
