from __future__ import annotations

import pytest

from recognition.engine import Profile
from recognition.tests.engine.support import default_profile_or_skip


@pytest.fixture(scope="session")
def default_profile() -> Profile:
    return default_profile_or_skip()
