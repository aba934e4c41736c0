"""Face galleries on the dashboard: find a performer, see every face, move, remove, restore
and merge (Immich's person page). Views parse, call one selector or service, and redirect."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from curation.selectors import (
    FACE_BUCKET_WORDS,
    GALLERY_PAGE_LIMIT,
    performer_gallery,
    performer_with_links,
    performers_found,
    performers_in_face_bucket,
)
from curation.services import gallery_face_move
from performers.models import Performer
from performers.services import performer_merge
from recognition.choices import FaceStatus
from recognition.models import Face
from recognition.services import face_remove, face_restore
from stashsense.errors import ApplicationError


class FaceActionForm(forms.Form):
    """One form per gallery (a button per face keeps the page light): `act` is
    "remove:<face id>", "restore:<face id>" or "move:<face id>" (to `to`)."""

    act = forms.RegexField(regex=r"^(remove|restore|move):[0-9]{1,18}$")
    to = forms.UUIDField(required=False)
    compare = forms.UUIDField(required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        action, _, face = cleaned.get("act", ":0").partition(":")
        cleaned["action"], cleaned["face"] = action, int(face or 0)
        if action == "move" and not cleaned.get("to"):
            raise forms.ValidationError("Choose the performer the face belongs to.")
        return cleaned


class MergeForm(forms.Form):
    other = forms.UUIDField()
    keep = forms.UUIDField()


def _curator(request: HttpRequest) -> AbstractBaseUser:
    user = request.user
    assert isinstance(user, AbstractBaseUser)  # staff_member_required lets only staff in
    return user


def _performer_or_404(pk: Any) -> Performer:
    performer = performer_with_links(performer_id=pk)
    if performer is None:
        raise Http404("No such performer (merged or deleted?).")
    return performer


def _gallery_url(performer_id: Any, compare: Any = None) -> str:
    url = reverse("curation:gallery", args=[performer_id])
    return f"{url}?{urlencode({'compare': compare})}" if compare else url


def _side(performer: Performer) -> dict[str, Any]:
    faces = list(performer_gallery(performer=performer)[: GALLERY_PAGE_LIMIT + 1])
    return {
        "performer": performer,
        "faces": faces[:GALLERY_PAGE_LIMIT],
        "more": len(faces) > GALLERY_PAGE_LIMIT,
        "active": sum(1 for face in faces if face.status == FaceStatus.ACTIVE),
        "removed": sum(1 for face in faces if face.status != FaceStatus.ACTIVE),
    }


@staff_member_required
@require_GET
def performers_page(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:200]
    bucket = request.GET.get("faces", "")
    if bucket in FACE_BUCKET_WORDS:
        found = list(performers_in_face_bucket(bucket=bucket))
    else:
        bucket = ""
        found = list(performers_found(query=query)) if query else []
    context = {
        "query": query,
        "found": found,
        "bucket": FACE_BUCKET_WORDS.get(bucket, ""),
        "listed": bool(query or bucket),
    }
    return render(request, "curation/performers.html", context)


@staff_member_required
@require_GET
def gallery_page(request: HttpRequest, pk: UUID) -> HttpResponse:
    performer = _performer_or_404(pk)
    compare_id = request.GET.get("compare", "")
    other = None
    if compare_id:
        try:
            other = performer_with_links(performer_id=UUID(compare_id))
        except ValueError:
            other = None
        if other is None or other.pk == performer.pk:
            messages.error(request, "The performer to compare with does not exist.")
            return HttpResponseRedirect(_gallery_url(performer.pk))
    query = request.GET.get("q", "").strip()[:200]
    found = [p for p in performers_found(query=query, limit=20) if p.pk != performer.pk]
    context = {
        "sides": [_side(performer), *([_side(other)] if other else [])],
        "performer": performer,
        "other": other,
        "query": query,
        "found": found if query else [],
    }
    return render(request, "curation/gallery.html", context)


@staff_member_required
@require_POST
def gallery_face_action(request: HttpRequest, pk: UUID) -> HttpResponse:
    form = FaceActionForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            " ".join(str(error) for error in form.non_field_errors()) or "Choose what to do.",
        )
        return HttpResponseRedirect(_gallery_url(pk))
    face = Face.objects.filter(pk=form.cleaned_data["face"], performer_id=pk).first()
    if face is None:
        raise Http404("No such face in this gallery.")
    compare = form.cleaned_data["compare"]
    actor = _curator(request).get_username()
    action = form.cleaned_data["action"]
    try:
        if action == "remove":
            face_remove(face=face, actor=actor)
            messages.success(request, "Removed the face; identification no longer uses it.")
        elif action == "restore":
            face_restore(face=face, actor=actor)
            messages.success(request, "Restored the face to the gallery.")
        else:
            target = _performer_or_404(form.cleaned_data["to"])
            gallery_face_move(face=face, performer=target, actor=actor)
            messages.success(request, f"Moved the face to {target}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(_gallery_url(pk, compare))


@staff_member_required
@require_POST
def gallery_merge(request: HttpRequest, pk: UUID) -> HttpResponse:
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the two performers and which one to keep.")
        return HttpResponseRedirect(_gallery_url(pk))
    pair = {pk, form.cleaned_data["other"]}
    keep = form.cleaned_data["keep"]
    if keep not in pair or len(pair) != 2:
        messages.error(request, "Keep one of the two performers shown.")
        return HttpResponseRedirect(_gallery_url(pk, form.cleaned_data["other"]))
    target = _performer_or_404(keep)
    source = _performer_or_404(next(key for key in pair if key != keep))
    try:
        record = performer_merge(
            sources=[source], target=target, actor=_curator(request), reason="Dashboard gallery"
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseRedirect(_gallery_url(pk, form.cleaned_data["other"]))
    messages.success(
        request,
        format_html(
            'Merged {} into {} (<a href="{}">merge record, with Undo</a>).',
            str(source),
            str(target),
            reverse("admin:performers_mergerecord_change", args=[record.pk]),
        ),
    )
    return HttpResponseRedirect(_gallery_url(target.pk))
