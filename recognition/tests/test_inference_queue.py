"""The inference queue: a few slots, a bounded line behind them, 503 at once beyond it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from recognition import concurrency
from recognition.concurrency import InferenceGate, inference_slot
from recognition.tests.gallery_fixtures import FACES, probe_photo
from stashsense.errors import Unavailable
from stashsense.tests.fault.stack import wait_for


def _wait_in_thread(gate: InferenceGate, done: list[str]) -> threading.Thread:
    def wait() -> None:
        gate.acquire(wait_seconds=600)
        done.append("got a slot")
        gate.release()

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    return thread


def test_beyond_the_queue_depth_a_caller_is_refused_at_once_with_retry_after() -> None:
    gate = InferenceGate(slots=1, max_waiting=1)
    gate.acquire(wait_seconds=0)
    done: list[str] = []
    waiter = _wait_in_thread(gate, done)
    wait_for(lambda: gate.state()["waiting"] == 1, timeout=30, what="the waiter to queue")

    # A long wait is allowed, yet the full queue refuses without waiting at all.
    with pytest.raises(Unavailable) as refused:
        gate.acquire(wait_seconds=600)

    assert refused.value.code == "busy" and refused.value.retry_after == 5
    assert "already waiting" in refused.value.message
    assert gate.state() == {"slots": 1, "running": 1, "waiting": 1, "max_waiting": 1}
    gate.release()
    waiter.join(timeout=30)
    assert done == ["got a slot"]
    assert gate.state()["running"] == 0 and gate.state()["waiting"] == 0


def test_a_waiter_that_gets_no_slot_in_time_is_told_busy() -> None:
    gate = InferenceGate(slots=1, max_waiting=4)
    gate.acquire(wait_seconds=0)

    with pytest.raises(Unavailable) as refused:
        gate.acquire(wait_seconds=0.01)

    assert "no slot freed" in refused.value.message
    assert gate.state()["waiting"] == 0


@pytest.fixture
def full_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[InferenceGate]:
    """The process's gate with one slot, taken, and no room to wait."""
    gate = InferenceGate(slots=1, max_waiting=0)
    monkeypatch.setattr(concurrency, "_gate", gate)
    with inference_slot(wait_seconds=0):
        yield gate


@pytest.mark.django_db
def test_an_identify_over_the_queue_answers_503_busy_and_health_shows_the_queue(
    api_client: APIClient, full_gate: InferenceGate
) -> None:
    with open(FACES / probe_photo("obama"), "rb") as handle:
        response = api_client.post("/api/v1/identify", {"image": handle}, format="multipart")
    health = api_client.get("/api/v1/health")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "busy"
    assert response["Retry-After"] == "5"
    assert health.json()["inference"] == {
        "slots": 1,
        "running": 1,
        "waiting": 0,
        "max_waiting": 0,
    }
