"""Celery tasks of recognition: take ids or names, call one service, own the retry policy."""

from __future__ import annotations

from celery import shared_task

from recognition import services


@shared_task(name="recognition.index_update", acks_late=True, ignore_result=True)
def index_update(profile: str | None = None) -> None:
    services.index_update(profile=profile)


@shared_task(name="recognition.index_build", acks_late=True, ignore_result=True)
def index_build(profile: str | None = None) -> None:
    services.index_build(profile=profile)
