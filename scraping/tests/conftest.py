"""Fixtures the scraping tests share: the fake upstreams, and the waits a client slept."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes import FakeStashBox, FakeThePornDB


@pytest.fixture
def box() -> Iterator[FakeStashBox]:
    with FakeStashBox() as fake:
        yield fake


@pytest.fixture
def tpdb() -> Iterator[FakeThePornDB]:
    with FakeThePornDB() as fake:
        yield fake


@pytest.fixture
def waits() -> list[float]:
    """What an OutboundClient given `sleep=waits.append` slept between attempts."""
    return []
