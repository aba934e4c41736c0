"""The JSON bodies of the REST API, recorded once and compared on every run.

A refactor (moving code between apps, renaming modules) must not change what a client of
/api/v1 receives. Every case below sends one realistic request and compares the answer's
status code and body with `recorded_bodies/<case>.json`, after the volatile values are
normalised (see `Normaliser`).

The data is set up only through entry points that survive such a refactor: the `enroll`
management command, `performers.models`, `stashsense.services.api_key_create` and the HTTP
API itself. All cases run once per module, in order, inside one transaction that is rolled
back at the end; each case is then compared in its own test.

Record again (after a change to the API that is meant) with

    RECORD_API_BODIES=1 pytest stashsense/tests/test_recorded_api_bodies.py

and review the diff of `recorded_bodies/` before committing it.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from performers.models import Performer, StashId
from stashsense.services import api_key_create

pytestmark = [pytest.mark.django_db, pytest.mark.models]

RECORDED = Path(__file__).resolve().parent / "recorded_bodies"
RECORDING = os.environ.get("RECORD_API_BODIES") == "1"

STASHDB = "https://stashdb.org/graphql"
# The gallery of recognition/tests/conftest.py: up to three photos per identity, the last
# photo of each identity is never enrolled (it stays a probe).
GALLERY_IDENTITIES = [
    "obama",
    "biden",
    "kit_harington",
    "rose_leslie",
    "Bill_Simon",
    "Carmen_Electra",
    "deepface_p01",
    "deepface_p02",
]
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
# Ids the requests make up themselves: constant, so they stay as they are in the bodies.
UNKNOWN_PERFORMER = "00000000-0000-4000-8000-000000000000"
UNKNOWN_SCENE = "424242"


# --- normalisation ---------------------------------------------------------------------------

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
INDEX_VERSION = re.compile(r"^(?P<profile>[\w.-]+):(?P<build>\d+):(?P<max_face_id>\d+)$")
JPEG_DATA_URL = "data:image/jpeg;base64,"
DATETIME_KEYS = {
    "built_at",
    "created_at",
    "updated_at",
    "started_at",
    "heartbeat_at",
    "finished_at",
    "last_used_at",
    "upstream_updated_at",
    "fitted_at",
}
# Database row ids other than performers': sequences move with every test that ran before.
ROW_ID_KEYS = {"face_id", "review_item_id", "merge_id", "scan_id"}


@dataclass
class Normaliser:
    """Replaces what legitimately changes from run to run; keeps every key and the structure.

    * `timings_ms` values → "<ms>" (the step names stay);
    * dates (`*_at`) → "<datetime>" once they parse as ISO 8601;
    * `index_version` "profile:build:max_face_id" → "profile:<build>:<max_face_id>";
    * performer ids (UUIDs, also inside messages) → "<performer:N>" in order of first
      appearance in the body, except the constant ids the requests make up;
    * other row ids (face, review item, merge, scan) → "<id>";
    * `version` → "<version>", `providers` and `available_providers` (per machine) →
      "<providers>", the provider of each of `sessions` → "<provider>";
    * health's `dependencies` (per the run's settings), all "ok" → "<dependencies, all ok>";
    * floats rounded to 4 decimals; JPEG data URLs → "<jpeg>" once they hold a JPEG;
    * `stash_ids` lists sorted by (endpoint, stash_id): the database gives them in no order.
    """

    performers: dict[str, str] = field(default_factory=dict)

    def performer(self, value: str) -> str:
        if value.lower() == UNKNOWN_PERFORMER:
            return value
        key = value.lower()
        if key not in self.performers:
            self.performers[key] = f"<performer:{len(self.performers) + 1}>"
        return self.performers[key]

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.field(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, bool) or value is None or isinstance(value, int):
            return value
        if isinstance(value, float):
            rounded = round(value, 4)
            return 0.0 if rounded == 0 else rounded
        if isinstance(value, str):
            if value.startswith("data:image/"):
                return self.jpeg(value)
            return UUID.sub(lambda match: self.performer(match.group(0)), value)
        raise AssertionError(f"unexpected JSON value {value!r}")

    def field(self, key: str, value: Any) -> Any:
        if key == "timings_ms":
            assert isinstance(value, dict) and value, value
            assert all(isinstance(v, int | float) and v >= 0 for v in value.values()), value
            return dict.fromkeys(value, "<ms>")
        if key in DATETIME_KEYS and value is not None:
            assert isinstance(value, str), (key, value)
            datetime.fromisoformat(value)  # a date, whatever its value
            return "<datetime>"
        if key == "index_version":
            match = INDEX_VERSION.match(value)
            assert match, value
            return f"{match['profile']}:<build>:<max_face_id>"
        if key in ROW_ID_KEYS and value is not None:
            assert isinstance(value, int), (key, value)
            return "<id>"
        if key == "version":
            assert isinstance(value, str) and value, value
            return "<version>"
        if key in {"providers", "available_providers"}:
            assert isinstance(value, list) and "CPUExecutionProvider" in value, value
            return "<providers>"
        if key == "sessions":
            assert isinstance(value, dict) and value, value
            return {role: "<provider>" for role in sorted(value)}
        if key == "dependencies":
            # which are checked depends on the run's settings (a cache, a broker or none)
            assert isinstance(value, dict) and value.get("database") == "ok", value
            assert set(value.values()) == {"ok"}, value
            return "<dependencies, all ok>"
        if key == "stash_ids" and isinstance(value, list):
            # a performer's stash ids come in no defined order (no ORDER BY): sort them
            ordered = sorted(value, key=lambda s: (str(s.get("endpoint")), str(s.get("stash_id"))))
            return self(ordered)
        if key == "thumbnail" and value is not None:
            assert isinstance(value, str) and value.startswith(JPEG_DATA_URL), value[:40]
        return self(value)

    @staticmethod
    def jpeg(value: str) -> str:
        assert value.startswith(JPEG_DATA_URL), value[:40]
        data = base64.b64decode(value[len(JPEG_DATA_URL) :], validate=True)
        assert data[:3] == b"\xff\xd8\xff", "not a JPEG"
        return "<jpeg>"


def normalise_body(body: Any) -> Any:
    """One body: performer placeholders are numbered per body, in order of first appearance."""
    return Normaliser()(body)


# --- the recorded requests -------------------------------------------------------------------


@dataclass
class Context:
    client: APIClient
    anonymous: APIClient
    faces: Path
    performer_ids: dict[str, str]
    build_id: int
    remembered: dict[str, Any] = field(default_factory=dict)

    def photo(self, relative: str) -> bytes:
        return (self.faces / relative).read_bytes()

    def upload(self, relative: str) -> SimpleUploadedFile:
        path = self.faces / relative
        kind = "text/vtt" if path.suffix == ".vtt" else "image/jpeg"
        return SimpleUploadedFile(path.name, path.read_bytes(), content_type=kind)

    def b64(self, relative: str) -> str:
        return base64.b64encode(self.photo(relative)).decode()


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str | Callable[[Context], str]
    send: Callable[[Context, str], Any]

    def path_for(self, context: Context) -> str:
        return self.path(context) if callable(self.path) else self.path


def _json(payload: Any, client: str = "client") -> Callable[[Context, str], Any]:
    def send(context: Context, path: str) -> Any:
        body = payload(context) if callable(payload) else payload
        return getattr(context, client).post(path, body, format="json")

    return send


def _multipart(payload: Callable[[Context], dict[str, Any]]) -> Callable[[Context, str], Any]:
    def send(context: Context, path: str) -> Any:
        return context.client.post(path, payload(context), format="multipart")

    return send


def _get(client: str = "client", **headers: str) -> Callable[[Context, str], Any]:
    def send(context: Context, path: str) -> Any:
        return getattr(context, client).get(path, **headers)

    return send


def _remember_thumbnail(context: Context, body: dict[str, Any]) -> None:
    """The plugin sends a person's thumbnail back with its feedback: keep one for that case."""
    for person in body.get("persons", []):
        if person["matches"] and "thumbnail" not in context.remembered:
            context.remembered["thumbnail"] = person["thumbnail"]


STILLS = "sprites/dev_stills_sprite.jpg"
STILLS_VTT = "sprites/dev_stills_thumbs.vtt"


def _performer(name: str) -> Callable[[Context], str]:
    return lambda context: context.performer_ids[name]


CASES: list[Case] = [
    # health and the plain error bodies
    Case("health", "GET", "/api/v1/health", _get("anonymous")),
    Case("not_found_route", "GET", "/api/v1/nothing-here", _get()),
    Case("auth_missing", "GET", "/api/v1/performers", _get("anonymous")),
    Case(
        "auth_missing_identify",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": "AAAA"}, client="anonymous"),
    ),
    Case(
        "auth_wrong_key",
        "GET",
        "/api/v1/performers",
        _get("anonymous", HTTP_AUTHORIZATION="Api-Key ss_wrong"),
    ),
    Case("method_not_allowed", "GET", "/api/v1/identify", _get()),
    # POST /api/v1/identify
    Case(
        "identify_enrolled_probe",
        "POST",
        "/api/v1/identify",
        _multipart(lambda c: {"image": c.upload("Bill_Simon/006.jpg")}),
    ),
    Case(
        "identify_enrolled_probe_kit",
        "POST",
        "/api/v1/identify",
        _multipart(lambda c: {"image": c.upload("kit_harington/003.jpg"), "top_k": "2"}),
    ),
    Case(
        "identify_group",
        "POST",
        "/api/v1/identify",
        _multipart(lambda c: {"image": c.upload("_group/004.jpg")}),
    ),
    Case(
        "identify_group_kit_and_rose",
        "POST",
        "/api/v1/identify",
        _multipart(lambda c: {"image": c.upload("_group/005.jpg"), "threshold": "0.5"}),
    ),
    Case(
        "identify_unknown_person",
        "POST",
        "/api/v1/identify",
        _multipart(lambda c: {"image": c.upload("John_Stockton/001.jpg")}),
    ),
    Case(
        "identify_base64_top_k_1",
        "POST",
        "/api/v1/identify",
        _json(lambda c: {"image_base64": c.b64("Carmen_Electra/006.jpg"), "top_k": 1}),
    ),
    Case(
        "identify_base64_data_url",
        "POST",
        "/api/v1/identify",
        _json(
            lambda c: {
                "image_base64": "data:image/jpeg;base64," + c.b64("deepface_p01/008.jpg"),
                "top_k": 2,
            }
        ),
    ),
    Case("identify_no_image", "POST", "/api/v1/identify", _json({})),
    Case(
        "identify_bad_top_k_range",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": "AAAA", "top_k": 0}),
    ),
    Case(
        "identify_bad_top_k_type",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": "AAAA", "top_k": "many"}),
    ),
    Case(
        "identify_bad_threshold",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": "AAAA", "threshold": 2}),
    ),
    Case(
        "identify_bad_base64",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": "not base64 at all!"}),
    ),
    Case(
        "identify_not_an_image",
        "POST",
        "/api/v1/identify",
        _json({"image_base64": base64.b64encode(b"hello, not a picture").decode()}),
    ),
    Case(
        "identify_image_url_not_allowed",
        "POST",
        "/api/v1/identify",
        _json({"image_url": "https://example.com/face.jpg"}),
    ),
    Case("identify_body_not_an_object", "POST", "/api/v1/identify", _json([1, 2, 3])),
    # POST /api/v1/identify/scene
    Case(
        "scene_sprite_multipart",
        "POST",
        "/api/v1/identify/scene",
        _multipart(lambda c: {"sprite": c.upload(STILLS), "vtt": c.upload(STILLS_VTT)}),
    ),
    Case(
        "scene_sprite_base64_known_cast_low_threshold",
        "POST",
        "/api/v1/identify/scene",
        _json(
            lambda c: {
                "sprite_base64": c.b64(STILLS),
                "vtt": (c.faces / STILLS_VTT).read_text(),
                "known_performer_ids": [
                    {"endpoint": STASHDB, "stash_id": "stash-biden"},
                    c.performer_ids["deepface p02"],
                ],
                "top_k": 2,
                "threshold": 0.3,
            }
        ),
    ),
    Case(
        "scene_frames",
        "POST",
        "/api/v1/identify/scene",
        _json(lambda c: {"frames": [c.b64("Bill_Simon/006.jpg"), c.b64("Bill_Simon/005.jpg")]}),
    ),
    Case(
        "scene_frames_mixed_people",
        "POST",
        "/api/v1/identify/scene",
        _json(
            lambda c: {
                "frames": [
                    c.b64("obama/004.jpg"),
                    c.b64("John_Stockton/001.jpg"),
                    c.b64("_group/004.jpg"),
                ],
                "top_k": 2,
            }
        ),
    ),
    Case("scene_no_input", "POST", "/api/v1/identify/scene", _json({"known_performer_ids": []})),
    Case(
        "scene_sprite_without_vtt",
        "POST",
        "/api/v1/identify/scene",
        _json(lambda c: {"sprite_base64": c.b64(STILLS)}),
    ),
    Case(
        "scene_bad_vtt",
        "POST",
        "/api/v1/identify/scene",
        _json(
            lambda c: {
                "sprite_base64": c.b64(STILLS),
                "vtt": "WEBVTT\n\n00:00:00.000 --> nonsense\nsprite.jpg#xywh=0,0,160,90\n",
            }
        ),
    ),
    Case(
        "scene_frames_not_a_list",
        "POST",
        "/api/v1/identify/scene",
        _json({"frames": "AAAA"}),
    ),
    Case(
        "scene_known_ids_not_a_list",
        "POST",
        "/api/v1/identify/scene",
        _json({"frames": ["AAAA"], "known_performer_ids": {"a": 1}}),
    ),
    Case(
        "scene_stash_scene_id_without_stash",
        "POST",
        "/api/v1/identify/scene",
        _json({"stash_scene_id": "12"}),
    ),
    # performers
    Case("performers_list", "GET", "/api/v1/performers", _get()),
    Case("performers_search", "GET", "/api/v1/performers?q=obama", _get()),
    Case("performers_search_stash_id", "GET", "/api/v1/performers?q=stash-biden", _get()),
    Case("performers_search_nothing", "GET", "/api/v1/performers?q=nobody-at-all", _get()),
    Case("performers_page", "GET", "/api/v1/performers?limit=2&offset=2", _get()),
    Case("performers_search_too_long", "GET", "/api/v1/performers?q=" + "x" * 501, _get()),
    Case(
        "performer_detail",
        "GET",
        lambda c: f"/api/v1/performers/{c.performer_ids['Carmen Electra']}",
        _get(),
    ),
    Case(
        "performer_detail_unknown",
        "GET",
        f"/api/v1/performers/{UNKNOWN_PERFORMER}",
        _get(),
    ),
    Case("performer_detail_not_a_uuid", "GET", "/api/v1/performers/42", _get()),
    Case(
        "performer_merge_invalid",
        "POST",
        lambda c: f"/api/v1/performers/{c.performer_ids['deepface p01']}/merge",
        _json({"sources": []}),
    ),
    Case(
        "performer_merge_unknown_source",
        "POST",
        lambda c: f"/api/v1/performers/{c.performer_ids['deepface p01']}/merge",
        _json({"sources": [UNKNOWN_PERFORMER]}),
    ),
    # the Stash side
    Case(
        "scene_suggestions_unknown",
        "GET",
        f"/api/v1/scenes/{UNKNOWN_SCENE}/suggestions",
        _get(),
    ),
    Case("scene_suggestions_bad_id", "GET", "/api/v1/scenes/abc/suggestions", _get()),
    Case(
        "scene_suggestions_run_without_stash",
        "POST",
        f"/api/v1/scenes/{UNKNOWN_SCENE}/suggestions",
        _json({}),
    ),
    Case("scans", "GET", "/api/v1/scans", _get()),
    Case(
        "feedback_invalid",
        "POST",
        "/api/v1/feedback",
        _json({"stash_scene_id": "abc", "person": -1, "decision": "maybe"}),
    ),
    Case("feedback_empty", "POST", "/api/v1/feedback", _json({})),
    Case(
        "feedback_unknown_performer",
        "POST",
        "/api/v1/feedback",
        _json(
            {
                "stash_scene_id": UNKNOWN_SCENE,
                "person": 0,
                "performer_id": UNKNOWN_PERFORMER,
                "decision": "reject",
            }
        ),
    ),
    # The cases below change the data: they come last.
    Case(
        "feedback_reject",
        "POST",
        "/api/v1/feedback",
        _json(
            lambda c: {
                "stash_scene_id": UNKNOWN_SCENE,
                "person": 0,
                "performer_id": c.performer_ids["obama"],
                "decision": "reject",
            }
        ),
    ),
    Case(
        "feedback_confirm_thumbnail",
        "POST",
        "/api/v1/feedback",
        _json(
            lambda c: {
                "stash_scene_id": UNKNOWN_SCENE,
                "person": 1,
                "performer_id": c.performer_ids["Bill Simon"],
                "decision": "confirm",
                "thumbnail": c.remembered["thumbnail"],
            }
        ),
    ),
    Case(
        "performer_merge",
        "POST",
        lambda c: f"/api/v1/performers/{c.performer_ids['deepface p01']}/merge",
        _json(lambda c: {"sources": [c.performer_ids["deepface p02"]], "reason": "same person"}),
    ),
    Case("health_after_changes", "GET", "/api/v1/health", _get("anonymous")),
]
CASE_NAMES = [case.name for case in CASES]
assert len(set(CASE_NAMES)) == len(CASE_NAMES)


# --- running them ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    method: str
    path: str
    status: int
    body: Any

    def as_record(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.status, "body": self.body}


def _enroll(shared: Path, workdir: Path) -> int:
    """Copy the gallery photos and enroll them; the id of the index the command built."""
    gallery = workdir / "gallery"
    for identity in GALLERY_IDENTITIES:
        photos = sorted(
            p for p in (shared / "faces" / identity).iterdir() if p.suffix in PHOTO_SUFFIXES
        )
        (gallery / identity).mkdir(parents=True)
        for photo in photos[:-1][:3]:
            shutil.copy(photo, gallery / identity / photo.name)
    out = StringIO()
    call_command("enroll", str(gallery), stdout=out, stderr=StringIO())
    built = re.search(r"index #(\d+): \d+ faces", out.getvalue())
    assert built, out.getvalue()
    return int(built.group(1))


def _wait_for_index(context: Context) -> None:
    """The process may still serve an index of an earlier test: wait until it serves ours."""
    probe = {"image_base64": context.b64("Bill_Simon/006.jpg"), "top_k": 1}
    deadline = time.monotonic() + 60
    while True:
        response = context.client.post("/api/v1/identify", probe, format="json")
        assert response.status_code == 200, response.content
        match = INDEX_VERSION.match(response.json()["index_version"])
        assert match, response.json()
        if int(match["build"]) == context.build_id:
            return
        assert time.monotonic() < deadline, f"the gallery never loaded index #{context.build_id}"
        time.sleep(0.5)


def _answer(case: Case, context: Context) -> Answer:
    path = case.path_for(context)
    response = case.send(context, path)
    assert response["Content-Type"].startswith("application/json"), (
        case.name,
        response["Content-Type"],
        response.content[:200],
    )
    body = json.loads(response.content)
    if case.name.startswith("scene_") and isinstance(body, dict):
        _remember_thumbnail(context, body)
    if isinstance(case.path, str):
        shown = case.path if len(case.path) < 120 else case.path[:100] + "…"
    else:
        shown = UUID.sub("<performer>", path)
    return Answer(case.method, shown, response.status_code, normalise_body(body))


@pytest.fixture(scope="module")
def answers(
    django_db_setup: None,
    django_db_blocker: Any,
    shared_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Answer]]:
    """Every case's answer, in order, on one gallery; all of it rolled back afterwards."""
    if not (shared_dir / "faces").is_dir():
        pytest.skip(f"{shared_dir / 'faces'} is not present")
    if not list(Path(settings.MODELS_DIR).glob("scrfd/*.onnx")):
        pytest.skip(f"no face models under {settings.MODELS_DIR}: run `manage.py fetch_models`")
    workdir = tmp_path_factory.mktemp("recorded-api")
    isolated = override_settings(
        DATA_DIR=workdir,
        INDEX_DIR=workdir / "index",
        MEDIA_ROOT=workdir / "media",
        STASH_URL="",
        STASH_API_KEY="",
        STASHSENSE_API_KEY="",
        IMAGE_URL_ALLOWED_HOSTS=[],
        STASHSENSE_FEEDBACK_ADD_FACES=True,
        STASHSENSE_FEEDBACK_MIN_CONFIDENCE=0.5,
        # Recorded on the release whose only gallery profile was scrfd-dlib: pinned to it, the
        # bodies stay a before/after guard of the API edge whatever the default profile is.
        STASHSENSE_PROFILE="scrfd-dlib",
        # the per-key rate limit counts in the cache: not in a Redis that other runs share
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
    )
    with django_db_blocker.unblock(), isolated, transaction.atomic():
        results: dict[str, Answer] = {}
        anonymous = APIClient()
        results["health_without_index"] = _answer(
            Case("health_without_index", "GET", "/api/v1/health", _get("anonymous")),
            Context(anonymous, anonymous, shared_dir / "faces", {}, 0),
        )
        build_id = _enroll(shared_dir, workdir)
        for identity in GALLERY_IDENTITIES:
            performer = Performer.objects.get(name=identity.replace("_", " "))
            StashId.objects.create(
                performer=performer, endpoint=STASHDB, stash_id=f"stash-{identity}"
            )
        _, raw_key = api_key_create(name="recorded bodies")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
        context = Context(
            client=client,
            anonymous=anonymous,
            faces=shared_dir / "faces",
            performer_ids={p.name: str(p.pk) for p in Performer.objects.all()},
            build_id=build_id,
        )
        _wait_for_index(context)
        for case in CASES:
            results[case.name] = _answer(case, context)
        transaction.set_rollback(True)
    yield results


def _recorded_file(name: str) -> Path:
    return RECORDED / f"{name}.json"


def _dump(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=2, ensure_ascii=False) + "\n"


ALL_NAMES = ["health_without_index", *CASE_NAMES]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_the_body_is_the_recorded_one(name: str, answers: dict[str, Answer]) -> None:
    actual = answers[name].as_record()
    path = _recorded_file(name)
    if RECORDING:
        RECORDED.mkdir(exist_ok=True)
        path.write_text(_dump(actual))
        return
    assert path.is_file(), f"{path} is missing: record it with RECORD_API_BODIES=1"
    expected = json.loads(path.read_text())
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                _dump(expected).splitlines(keepends=True),
                _dump(actual).splitlines(keepends=True),
                fromfile=f"recorded {path.name}",
                tofile="answered now",
            )
        )
        pytest.fail(
            f"{name}: the API answered differently from the recording\n{diff}", pytrace=False
        )


def test_every_recording_belongs_to_a_case() -> None:
    if RECORDING:
        return
    stale = sorted({p.stem for p in RECORDED.glob("*.json")} - set(ALL_NAMES))
    assert not stale, f"recordings without a case (delete them): {stale}"
