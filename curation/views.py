"""The curation dashboard: server-rendered pages for staff, plus one JSON feed for the jobs page.

Views parse the request, call one selector or service and render; nothing here writes rows.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.views.decorators.http import require_GET, require_POST

from bundles.feed_updates import bundle_feed_status
from bundles.tasks import bundle_feed_update_task
from curation.charts import bar_chart, unit_bins
from curation.choices import ReviewKind
from curation.forms import BulkDecisionForm, DecisionForm, QueueFilterForm
from curation.models import ReviewItem
from curation.selectors import (
    FACE_BUCKET_WORDS,
    active_index_calibration,
    best_faces_of,
    face_quality_histogram,
    job_sources,
    performer_active_faces,
    performer_with_links,
    performers_by_face_count,
    performers_found,
    recent_index_builds,
    recent_scene_scans,
    recent_sync_runs,
    review_counts_by_kind,
    review_item_detail,
    review_item_held_by_other,
    review_neighbours,
    review_next_open,
    review_queue_rows,
    review_score_histograms,
)
from curation.services import (
    review_item_accept,
    review_item_reject,
    review_item_skip,
    review_items_decide,
)
from performers.models import Performer
from recognition.models import Face, IndexBuild
from scraping.choices import RunStatus
from scraping.models import SyncRun
from stash.models import SceneScan
from stashsense.errors import ApplicationError
from stashsense.exceptions import error_body

View = Callable[..., HttpResponse]


def staff_json_required(view: View) -> View:
    """Like staff_member_required, but a script gets a JSON 403 instead of a login page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_authenticated and user.is_active and getattr(user, "is_staff", False)):
            return JsonResponse(error_body("not_authenticated", "Log in first."), status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _reviewer(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser)  # staff_member_required lets only staff in
    return user


def _item_url(item: ReviewItem, query: str) -> str:
    url = reverse("curation:item", args=[item.pk])
    return f"{url}?{query}" if query else url


def _queue_url(query: str) -> str:
    url = reverse("curation:queue")
    return f"{url}?{query}" if query else url


# --- queue and items -----------------------------------------------------------------------


@staff_member_required
@require_GET
def queue_page(request: HttpRequest) -> HttpResponse:
    form = QueueFilterForm(request.GET or None)
    rows = review_queue_rows(items=form.queue())
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    counts = review_counts_by_kind()
    return render(
        request,
        "curation/queue.html",
        {
            "form": form,
            "page": page,
            "query": form.querystring(),
            "counts": [(ReviewKind(kind).label, kind, count) for kind, count in counts.items()],
            "total": sum(counts.values()),
            "gallery_update": bundle_feed_status(),
        },
    )


@staff_member_required
@require_GET
def item_page(request: HttpRequest, pk: int) -> HttpResponse:
    item = review_item_detail(pk=pk)
    if item is None:
        raise Http404("No such review item.")
    form = QueueFilterForm(request.GET or None)
    query = form.querystring()
    # Opening an item claims nothing (a curator may look around); deciding it takes it.
    held = not review_item_held_by_other(item=item, user=_reviewer(request))
    before, after = review_neighbours(queue=form.queue(), item=item)
    context: dict[str, Any] = {
        "item": item,
        "query": query,
        "held_by_other": not held,
        "previous_url": _item_url(before, query) if before else "",
        "next_url": _item_url(after, query) if after else "",
        "queue_url": _queue_url(query),
    }
    if item.kind == ReviewKind.DUPLICATE:
        context["sides"] = [
            _performer_side(label, performer)
            for label, performer in (("a", item.performer_a), ("b", item.performer_b))
        ]
    elif item.kind == ReviewKind.SUSPICIOUS_FACE and item.face is not None:
        context["others"] = [
            face
            for face in performer_active_faces(performer=item.face.performer, limit=24)
            if face.pk != item.face.pk
        ]
    elif item.kind == ReviewKind.LOW_CONFIDENCE:
        context.update(_low_confidence_context(item, request.GET.get("q", "").strip()[:200]))
    return render(request, "curation/item.html", context)


def _low_confidence_context(item: ReviewItem, search: str) -> dict[str, Any]:
    """The scene face, each candidate with their best gallery face, what the Stash user said,
    and anyone else the curator searched for."""
    payload = item.payload
    raw = [c for c in payload.get("candidates") or [] if isinstance(c, dict)]
    faces = best_faces_of(performer_ids=[str(c.get("performer_id", "")) for c in raw])
    rejected = str(payload.get("rejected_performer_id") or "")
    candidates = [
        {
            **candidate,
            "performer_id": str(candidate.get("performer_id", "")),
            "face_id": faces.get(str(candidate.get("performer_id", ""))),
            "rejected": str(candidate.get("performer_id", "")) == rejected,
        }
        for candidate in raw
    ]
    listed = {c["performer_id"] for c in candidates}
    found = [p for p in performers_found(query=search, limit=10) if str(p.pk) not in listed]
    scene_id = str(payload.get("scene_id") or "")
    stash_url = settings.STASH_URL.rstrip("/") if settings.STASH_URL else ""
    person = payload.get("person")
    return {
        "thumbnail": reverse("curation:item_thumbnail", args=[item.pk])
        if _image_data_uri(payload.get("thumbnail"))
        else "",
        "candidates": candidates,
        "preselected": next((c["performer_id"] for c in candidates if not c["rejected"]), ""),
        "search": search,
        "found": found if search else [],
        "person_number": person + 1 if isinstance(person, int) else None,
        "scene_url": f"{stash_url}/scenes/{quote(scene_id)}" if stash_url and scene_id else "",
    }


def _image_data_uri(value: object) -> str:
    """The plugin's thumbnail, only if it is an inline image (never a URL to fetch)."""
    if isinstance(value, str) and value.startswith(_IMAGE_DATA_PREFIXES):
        return value
    return ""


_IMAGE_DATA_PREFIXES = tuple(f"data:image/{kind};base64," for kind in ("jpeg", "png", "webp"))


def _performer_side(label: str, performer: Performer | None) -> dict[str, Any]:
    loaded = performer_with_links(performer_id=performer.pk) if performer else None
    return {
        "label": label,
        "performer": loaded,
        "faces": performer_active_faces(performer=loaded) if loaded else [],
    }


@staff_member_required
@require_POST
def queue_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(str(error) for error in form.non_field_errors()) or "Choose accept or reject.",
        )
        return HttpResponseRedirect(_queue_url(_carried_filters(request.POST.get("filters", ""))))
    query = _carried_filters(form.cleaned_data["filters"])
    filters = QueueFilterForm(QueryDict(query) or None)
    chosen = form.chosen(filters.queue())
    decision = form.cleaned_data["decision"]
    outcome = review_items_decide(items=chosen, user=_reviewer(request), decision=decision)
    verb = "Accepted" if decision == "accept" else "Rejected"
    messages.success(request, f"{verb} {outcome.decided} of {len(chosen)} item(s).")
    if outcome.errors:
        messages.error(request, "Left undecided: " + "; ".join(outcome.errors[:10]))
    return HttpResponseRedirect(_queue_url(query))


def _carried_filters(query: str) -> str:
    return QueueFilterForm(QueryDict(query) or None).querystring()


@staff_member_required
@require_GET
def item_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """The plugin's person thumbnail of a low-confidence item as an image (pages link to it
    instead of inlining the base64, which keeps the queue light)."""
    payload = ReviewItem.objects.filter(pk=pk).values_list("payload", flat=True).first()
    image = _image_data_uri((payload or {}).get("thumbnail"))
    if not image:
        raise Http404("No thumbnail for this item.")
    header, _, data = image.partition(",")
    try:
        content = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise Http404("The thumbnail is not valid base64.") from None
    response = HttpResponse(content, content_type=header[len("data:") : -len(";base64")])
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_member_required
@require_POST
def item_decide(request: HttpRequest, pk: int) -> HttpResponse:
    item = review_item_detail(pk=pk)
    if item is None:
        raise Http404("No such review item.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept, reject or skip.")
        return HttpResponseRedirect(_item_url(item, ""))
    filters = QueueFilterForm(QueryDict(form.cleaned_data["filters"]) or None)
    query = filters.querystring()
    try:
        message = _apply_decision(request, item, form.cleaned_data)
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(_item_url(item, query))
    messages.success(request, message)
    following = review_next_open(queue=filters.queue(), user=_reviewer(request), after=item)
    return HttpResponseRedirect(_item_url(following, query) if following else _queue_url(query))


def _apply_decision(request: HttpRequest, item: ReviewItem, data: dict[str, Any]) -> str:
    user = _reviewer(request)
    decision = data["decision"]
    if decision == "reject":
        review_item_reject(item=item, user=user)
        return {
            ReviewKind.DUPLICATE: f"Kept apart: {item.summary.split(':')[0]}.",
            ReviewKind.SUSPICIOUS_FACE: "Kept the face; it will not be flagged again.",
        }.get(ReviewKind(item.kind), "No candidate was right.")
    if decision == "skip":
        review_item_skip(item=item, user=user)
        return f"Skipped item #{item.pk}."
    keep = next(
        (p for p in (item.performer_a, item.performer_b) if p and str(p.pk) == data["keep"]), None
    )
    review_item_accept(item=item, user=user, keep=keep, candidate_id=data["candidate"] or None)
    if item.kind == ReviewKind.DUPLICATE and item.merge_record is not None:
        kept = Performer.objects.get(pk=item.merge_record.target_key)
        return format_html(
            'Merged into <a href="{}">{}</a> (<a href="{}">merge #{}</a>, undo from admin).',
            reverse("admin:performers_performer_change", args=[kept.pk]),
            str(kept),
            reverse("admin:performers_mergerecord_change", args=[item.merge_record.pk]),
            item.merge_record.pk,
        )
    if item.kind == ReviewKind.SUSPICIOUS_FACE:
        return "Removed the face from the gallery."
    return "Recorded the identification."


@staff_member_required
@require_GET
def face_crop(request: HttpRequest, pk: int) -> HttpResponse:
    crop = Face.objects.filter(pk=pk).values_list("crop", flat=True).first()
    if not crop:
        raise Http404("No crop for this face.")
    response = HttpResponse(bytes(crop), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- jobs ----------------------------------------------------------------------------------


def _sync_run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "id": f"sync-{run.pk}",
        "source": run.source.name,
        "kind": run.kind,
        "status": run.status,
        "status_label": run.get_status_display(),
        "progress": round(run.progress, 4),
        # An incremental run learns its total only when its listing is over: until then the
        # page says how many it has handled instead of a percentage stuck at 0.
        "progress_known": bool(run.total) or run.status != RunStatus.RUNNING,
        "seen": run.performers_new + run.performers_updated + run.performers_deleted,
        "total": run.total,
        "pages": run.pages,
        "new": run.performers_new,
        "updated": run.performers_updated,
        "deleted": run.performers_deleted,
        "photos": run.photos,
        "faces": run.faces,
        "errors": run.errors,
        "last_error": run.last_error,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "started_label": _when(run.started_at or run.created_at),
    }


def _when(moment: datetime | None) -> str:
    """Dates as every dashboard page writes them: 2026-12-04 22:55."""
    return date_format(localtime(moment), "Y-m-d H:i") if moment else ""


def _scene_scan_json(scan: SceneScan) -> dict[str, Any]:
    return {
        "id": f"scan-{scan.pk}",
        "status": scan.status,
        "status_label": scan.get_status_display(),
        "progress": round(scan.progress, 4),
        "total": scan.target,
        "identified": scan.identified,
        "skipped": scan.skipped,
        "errors": scan.errors,
        "last_error": scan.last_error,
        "started_label": _when(scan.started_at or scan.created_at),
    }


def _index_build_json(build: IndexBuild) -> dict[str, Any]:
    return {
        "id": f"build-{build.pk}",
        "profile": build.profile,
        "status": build.status,
        "status_label": build.get_status_display(),
        "active": build.active,
        "progress": round(build.progress, 4),
        "faces": build.faces,
        "performers": build.performers,
        "last_error": build.error,
        "started_at": build.started_at.isoformat() if build.started_at else None,
        "built_at": build.built_at.isoformat() if build.built_at else None,
        "started_label": _when(build.started_at),
    }


def _jobs() -> dict[str, list[dict[str, Any]]]:
    return {
        "sync_runs": [_sync_run_json(run) for run in recent_sync_runs()],
        "index_builds": [_index_build_json(build) for build in recent_index_builds()],
        "scene_scans": [_scene_scan_json(scan) for scan in recent_scene_scans()],
    }


@staff_member_required
@require_GET
def jobs_page(request: HttpRequest) -> HttpResponse:
    context = {
        **_jobs(),
        "sources": job_sources(),
        "stash_configured": bool(settings.STASH_URL),
        "gallery_update": bundle_feed_status(),
    }
    return render(request, "curation/jobs.html", context)


@staff_member_required
@require_POST
def gallery_update(request: HttpRequest) -> HttpResponse:
    """Apply the bundle feed's new bundles on a worker; the jobs page shows the outcome."""
    if bundle_feed_status() is None:
        messages.error(request, "No bundle feed is configured (STASHSENSE_BUNDLE_FEED).")
    else:
        bundle_feed_update_task.delay()
        messages.success(
            request,
            "Gallery update started: the new bundles are downloaded, checked and applied "
            "in one step (or not at all).",
        )
    return HttpResponseRedirect(reverse("curation:jobs"))


@staff_json_required
@require_GET
def jobs_feed(request: HttpRequest) -> HttpResponse:
    return JsonResponse(_jobs())


# --- quality -------------------------------------------------------------------------------


@staff_member_required
@require_GET
def quality_page(request: HttpRequest) -> HttpResponse:
    bins = unit_bins(10)
    score_charts = [
        bar_chart(
            f"Scores: {ReviewKind(kind).label.lower()}",
            counts,
            bins,
            x_label="score →",
            y_label="items",
            links=[_score_bin_url(kind, index) for index in range(len(bins))],
        )
        for kind, counts in review_score_histograms().items()
    ]
    by_faces = performers_by_face_count()
    performers_url = reverse("curation:performers")
    return render(
        request,
        "curation/quality.html",
        {
            "score_charts": score_charts,
            "quality_chart": bar_chart(
                "Active faces by quality",
                face_quality_histogram(),
                bins,
                x_label="quality →",
                y_label="faces",
            ),
            "faces_chart": bar_chart(
                "Performers by active faces",
                list(by_faces.values()),
                [FACE_BUCKET_WORDS[bucket] for bucket in by_faces],
                x_label="active faces →",
                y_label="performers",
                links=[f"{performers_url}?{urlencode({'faces': b})}" for b in by_faces],
            ),
            "by_faces": [
                (FACE_BUCKET_WORDS[bucket], bucket, count) for bucket, count in by_faces.items()
            ],
            "calibration": active_index_calibration(),
        },
    )


def _score_bin_url(kind: str, index: int, bins: int = 10) -> str:
    """The queue's items of one score bin, decided or not (what the bar counts)."""
    query = {"kind": kind, "status": "all", "min_score": f"{index / bins:.2f}"}
    if index < bins - 1:
        query["max_score"] = f"{(index + 1) / bins - 0.0001:.4f}"
    return _queue_url(urlencode(query))
