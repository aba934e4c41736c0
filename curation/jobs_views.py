"""Starting jobs from the dashboard's jobs page: a sync of a source, a library scan, an index
build. Each is one service of the app that owns the job; the page then shows it (polling)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from curation.selectors import job_sources
from curation.services import index_build_enqueue
from scraping.choices import RunStatus
from scraping.models import SyncRun
from scraping.services import sync_run_enqueue
from stash.choices import SceneScanStatus
from stash.library_scans import scene_scan_enqueue
from stash.models import SceneScan
from stashsense.errors import ApplicationError
from stashsense.jobs import job_cancel


class JobStartForm(forms.Form):
    job = forms.ChoiceField(
        choices=[("sync", "Sync"), ("scan", "Library scan"), ("index", "Index")]
    )
    source = forms.ModelChoiceField(queryset=job_sources(), to_field_name="name", required=False)
    full = forms.BooleanField(required=False)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("job") == "sync" and cleaned.get("source") is None:
            raise forms.ValidationError("Choose the source to sync.")
        return cleaned


@staff_member_required
@require_POST
def job_start(request: HttpRequest) -> HttpResponse:
    form = JobStartForm(request.POST)
    if not form.is_valid():
        errors = " ".join(str(error) for error in form.non_field_errors())
        messages.error(request, errors or "Choose a sync, a library scan or an index build.")
        return HttpResponseRedirect(reverse("curation:jobs"))
    job = form.cleaned_data["job"]
    try:
        if job == "sync":
            source = form.cleaned_data["source"]
            run = sync_run_enqueue(source=source, full=form.cleaned_data["full"])
            messages.success(
                request, f"Queued a {run.get_kind_display().lower()} sync of {source}."
            )
        elif job == "scan":
            if not settings.STASH_URL:
                raise ApplicationError("Set STASH_URL first: a library scan reads your Stash.")
            scene_scan_enqueue()
            messages.success(request, "Queued a scan of the Stash library.")
        else:
            index_build_enqueue()
            messages.success(
                request, "Queued an index build; it shows here once a worker starts it."
            )
    except ApplicationError as error:
        messages.error(request, error.message)
    return HttpResponseRedirect(reverse("curation:jobs"))


# A library scan has no "cancelled" state: it ends as failed, with the reason, and a scan
# started again with the same options resumes it where it stopped.
_CANCELLABLE = {
    "sync": (SyncRun, RunStatus.CANCELLED),
    "scan": (SceneScan, SceneScanStatus.FAILED),
}


@staff_member_required
@require_POST
def job_cancel_view(request: HttpRequest) -> HttpResponse:
    kind, _, pk = request.POST.get("job", "").partition("-")
    if kind not in _CANCELLABLE or not pk.isdigit():
        messages.error(request, "Choose a sync or a library scan to cancel.")
        return HttpResponseRedirect(reverse("curation:jobs"))
    model, status = _CANCELLABLE[kind]
    user = request.user
    who = user.get_username() if isinstance(user, AbstractBaseUser) else "a curator"
    if job_cancel(model, int(pk), status=status, reason=f"Cancelled by {who}."):
        messages.success(request, "Cancelled; the worker stops at its next step.")
    else:
        messages.error(request, "That job had already ended.")
    return HttpResponseRedirect(reverse("curation:jobs"))
