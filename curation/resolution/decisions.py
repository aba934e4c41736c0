"""Identity resolution: which other performers are the same person as this one, and how sure.

Evidence, strongest first:
1. explicit cross-link: a stash-box (or ThePornDB) performer URL on one performer names a
   stash ID the other carries;
2. shared external profile: both carry the same (site, id) after URL normalisation;
3. the same name or alias after normalisation AND similar face galleries;
4. very similar face galleries alone.
Strong evidence (1, 2) merges automatically unless something speaks against it; weaker
evidence becomes a review item. A name alone never produces anything.

This module gathers evidence and decides; `curation.services` applies the decisions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Q

from curation.choices import EvidenceKind, ReviewStatus
from curation.face_distances import FaceThresholds, face_agreement, gallery_distance
from curation.models import PAIR_PREFIX, ReviewItem
from curation.resolution.face_search import FaceSearch, Neighbour
from curation.selectors import PerformerFaceVectors, face_performers, performer_face_vectors
from performers.choices import SourceKind
from performers.external_urls import KNOWN_STASHBOX_HOSTS, ExternalProfile, parse_external_url
from performers.models import MergeRecord, Performer, PerformerUrl, Source, StashId
from performers.names import normalize_name

STRONG = (EvidenceKind.EXPLICIT_LINK, EvidenceKind.SHARED_PROFILE)
_STRENGTH = {kind: rank for rank, kind in enumerate(EvidenceKind.values)}
# A profile held by more performers than this is a studio or agency account, not a person.
MAX_PROFILE_HOLDERS = 4
MAX_NAME_CANDIDATES = 200
MAX_FACE_CANDIDATES = 20
FACE_NEIGHBOURS = 10
# Scores of strong evidence that was not merged automatically (it still tops the queue).
_BLOCKED_SCORE = {EvidenceKind.EXPLICIT_LINK: 0.99, EvidenceKind.SHARED_PROFILE: 0.95}


@dataclass(frozen=True)
class Evidence:
    kind: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_strong(self) -> bool:
        return self.kind in STRONG

    @property
    def label(self) -> str:
        return str(EvidenceKind(self.kind).label)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "summary": self.summary,
            "details": self.details,
        }


@dataclass
class PairFindings:
    """Everything known about "is `other` the same person as `performer`"."""

    performer: Performer
    other: Performer
    evidence: list[Evidence] = field(default_factory=list)
    face_distance: float | None = None
    faces: tuple[int, int] = (0, 0)
    blockers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """Merge `other` and `performer`, or ask a curator; `notes` say why a merge was held back."""

    action: str  # "merge" | "review"
    performer: Performer
    other: Performer
    evidence: tuple[Evidence, ...]
    score: float
    face_distance: float | None
    notes: tuple[str, ...] = ()

    @property
    def strongest(self) -> Evidence:
        return self.evidence[0]

    def evidence_json(self) -> list[dict[str, Any]]:
        items = [e.as_json() for e in self.evidence]
        if self.notes:
            items.append(
                {
                    "kind": "held_back",
                    "label": "Not merged automatically",
                    "summary": "; ".join(self.notes),
                    "details": {},
                }
            )
        return items


def pair_key(first: Any, second: Any) -> str:
    """The unordered key of two performer ids: the same whichever comes first."""
    low, high = sorted([str(first), str(second)])
    return f"{PAIR_PREFIX}{low}:{high}"


# --- the rule ------------------------------------------------------------------------------


def decide(findings: PairFindings, thresholds: FaceThresholds) -> Decision | None:
    """Turn a pair's evidence into an action; None when there is nothing to act on."""
    evidence = tuple(sorted(findings.evidence, key=lambda e: _STRENGTH[e.kind]))
    if not evidence:
        return None
    strongest = evidence[0]

    def conclude(action: str, score: float, notes: tuple[str, ...] = ()) -> Decision:
        return Decision(
            action,
            findings.performer,
            findings.other,
            evidence,
            score,
            findings.face_distance,
            notes,
        )

    if strongest.is_strong:
        notes = list(findings.blockers)
        if (
            findings.face_distance is not None
            and min(findings.faces) >= 2
            and findings.face_distance >= thresholds.contradiction_min
        ):
            notes.append(f"their faces disagree (gallery distance {findings.face_distance:.2f})")
        if notes:
            return conclude("review", _BLOCKED_SCORE[EvidenceKind(strongest.kind)], tuple(notes))
        return conclude("merge", 1.0)
    assert findings.face_distance is not None  # weak evidence always comes with faces
    agreement = face_agreement(findings.face_distance, thresholds)
    if strongest.kind == EvidenceKind.NAME_AND_FACE:
        # The name halves the remaining doubt the faces leave.
        return conclude("review", round(1 - (1 - agreement) / 2, 4))
    return conclude("review", round(0.9 * agreement, 4))


# --- evidence: links and profiles ---------------------------------------------------------


def _host(url: str) -> str:
    host = urlsplit(url if "://" in url else "https://" + url).netloc.lower()
    host = host.rsplit("@", 1)[-1].split(":", 1)[0]
    for prefix in ("www.", "api."):
        host = host.removeprefix(prefix)
    return host


@dataclass(frozen=True)
class SourceHosts:
    """Hosts of the configured sources: which URLs are stash-box or ThePornDB pages."""

    stashbox: frozenset[str]
    theporndb: frozenset[str]

    @classmethod
    def load(cls) -> SourceHosts:
        stashbox: set[str] = set()
        theporndb = {"theporndb.net"}
        for kind, url in Source.objects.values_list("kind", "url"):
            (theporndb if kind == SourceKind.THEPORNDB else stashbox).add(_host(url))
        return cls(frozenset(stashbox), frozenset(theporndb))

    def stash_id_profile(self, endpoint: str, stash_id: str) -> ExternalProfile:
        """The profile a URL to this stash ID's page parses to."""
        host = _host(endpoint)
        if host in self.theporndb or host.endswith("theporndb.net"):
            return ExternalProfile("theporndb", stash_id.lower())
        return ExternalProfile(f"stashbox:{host}", stash_id.lower())

    def url_profile(self, row: PerformerUrl) -> ExternalProfile | None:
        if row.site:
            return ExternalProfile(row.site, row.site_id)
        return parse_external_url(row.url, stashbox_hosts=self.stashbox)


def _is_link(profile: ExternalProfile) -> bool:
    return profile.site.startswith("stashbox:") or profile.site == "theporndb"


def explicit_links(performer: Performer, hosts: SourceHosts) -> dict[Any, list[Evidence]]:
    """Other performers that one of these URLs names by stash ID, or whose URLs name ours."""
    found: dict[Any, list[Evidence]] = defaultdict(list)
    for row in performer.urls.all():
        profile = hosts.url_profile(row)
        if profile is None or not _is_link(profile):
            continue
        wanted = {profile.site_id, profile.site_id.upper()}
        for target in StashId.objects.filter(stash_id__in=wanted).exclude(performer=performer):
            if hosts.stash_id_profile(target.endpoint, target.stash_id) == profile:
                found[target.performer_id].append(
                    Evidence(
                        EvidenceKind.EXPLICIT_LINK,
                        f"{row.url} (on {performer.name}) is the page of stash ID "
                        f"{target.endpoint}#{target.stash_id}",
                        {"url": row.url, "endpoint": target.endpoint, "stash_id": target.stash_id},
                    )
                )
    for own in performer.stash_ids.all():
        profile = hosts.stash_id_profile(own.endpoint, own.stash_id)
        condition = Q(site=profile.site, site_id=profile.site_id)
        if profile.site.startswith("stashbox:") and profile.site[9:] not in KNOWN_STASHBOX_HOSTS:
            # URLs of hosts `parse_external_url` does not know were stored without a site.
            condition |= Q(site="", url__icontains=own.stash_id)
        for row in PerformerUrl.objects.filter(condition).exclude(performer=performer):
            if hosts.url_profile(row) == profile:
                found[row.performer_id].append(
                    Evidence(
                        EvidenceKind.EXPLICIT_LINK,
                        f"{row.url} (on the other performer) is the page of stash ID "
                        f"{own.endpoint}#{own.stash_id}",
                        {"url": row.url, "endpoint": own.endpoint, "stash_id": own.stash_id},
                    )
                )
    return found


def shared_profiles(performer: Performer, hosts: SourceHosts) -> dict[Any, list[Evidence]]:
    """Other performers carrying one of this performer's external profiles (not a link)."""
    found: dict[Any, list[Evidence]] = defaultdict(list)
    seen: set[ExternalProfile] = set()
    for row in performer.urls.all():
        profile = hosts.url_profile(row)
        if profile is None or _is_link(profile) or profile in seen:
            continue
        seen.add(profile)
        holders = list(
            PerformerUrl.objects.filter(site=profile.site, site_id=profile.site_id)
            .exclude(performer=performer)
            .values_list("performer_id", "url")
        )
        if len({pk for pk, _ in holders}) + 1 > MAX_PROFILE_HOLDERS:
            continue
        for other_id, url in holders:
            found[other_id].append(
                Evidence(
                    EvidenceKind.SHARED_PROFILE,
                    f"both link {profile.site} profile {profile.site_id!r} ({row.url} / {url})",
                    {"site": profile.site, "site_id": profile.site_id, "urls": [row.url, url]},
                )
            )
    return found


# --- evidence: names and faces -------------------------------------------------------------


def names_of(performer: Performer) -> set[str]:
    names = {normalize_name(performer.name)}
    names.update(alias.normalized for alias in performer.aliases.all())
    return {name for name in names if name}


def name_matches(performer: Performer) -> dict[Any, list[str]]:
    """Other performers sharing a normalised name or alias with this one → the shared names."""
    names = names_of(performer)
    if not names:
        return {}
    condition = Q(aliases__normalized__in=names) | Q(normalized_name__in=names)
    candidate_ids = list(
        Performer.objects.filter(condition)
        .exclude(pk=performer.pk)
        .values_list("pk", flat=True)
        .distinct()[:MAX_NAME_CANDIDATES]
    )
    found: dict[Any, list[str]] = {}
    for other in Performer.objects.filter(pk__in=candidate_ids).prefetch_related("aliases"):
        shared = sorted(names & names_of(other))
        if shared:
            found[other.pk] = shared
    return found


def face_neighbours(
    gallery: PerformerFaceVectors,
    search: FaceSearch | None,
    thresholds: FaceThresholds,
    profile: str,
) -> set[Any]:
    """Performers with a face close enough to one of this gallery's to be worth comparing."""
    if search is None or len(gallery) == 0:
        return set()
    neighbours: list[Neighbour] = search.nearest(gallery.vectors, k=FACE_NEIGHBOURS + len(gallery))
    own = set(gallery.face_ids)
    close = [n for n in neighbours if n.face_id not in own and n.distance < thresholds.same]
    owners = {n.face_id: n.performer_id for n in close if n.performer_id is not None}
    unknown = [n.face_id for n in close if n.performer_id is None]
    if unknown:
        owners.update(face_performers(face_ids=unknown, profile=profile))
    best: dict[Any, float] = {}
    for neighbour in close:
        owner = owners.get(neighbour.face_id)
        if owner is not None:
            best[owner] = min(best.get(owner, neighbour.distance), neighbour.distance)
    return set(sorted(best, key=best.__getitem__)[:MAX_FACE_CANDIDATES])


# --- blockers ------------------------------------------------------------------------------


def live_endpoints(performer: Performer) -> set[str]:
    """Endpoints where the performer has an entry that is neither deleted nor merged away."""
    return {s.endpoint for s in performer.stash_ids.all() if not s.deleted and not s.merged_into}


def _same_endpoint_entries(performer: Performer, other: Performer) -> list[str]:
    """Two live entries on one endpoint are two people as far as that source knows."""
    shared = live_endpoints(performer) & live_endpoints(other)
    return [f"each has its own entry on {endpoint}" for endpoint in sorted(shared)]


def compatible_merges(performer: Performer, merges: list[Decision]) -> list[Decision]:
    """The merges that can go together: two candidates that each may join `performer` may
    still clash with each other (two entries on one endpoint). The rest wait for the next
    round, where the clash shows as a blocker against the merged identity."""
    if not merges:
        return []
    endpoints = live_endpoints(performer)
    group = []
    for decision in merges:
        theirs = live_endpoints(decision.other)
        if endpoints & theirs:
            continue
        group.append(decision)
        endpoints |= theirs
    return group


def _undone_merge(performer: Performer, other: Performer) -> list[str]:
    keys = {str(performer.pk), str(other.pk)}
    records = MergeRecord.objects.filter(
        undone_at__isnull=False, target_key__in=[performer.pk, other.pk]
    )
    for record in records:
        if keys <= {str(record.target_key), *record.source_keys}:
            return [f"a merge of the two was undone by {record.undone_by_label or 'someone'}"]
    return []


def _decided_pairs(performer: Performer, others: Iterable[Any]) -> set[str]:
    keys = [pair_key(performer.pk, other) for other in others]
    decided = ReviewItem.objects.filter(
        subject_key__in=keys, status__in=[ReviewStatus.ACCEPTED, ReviewStatus.REJECTED]
    )
    return {item.subject_key for item in decided.only("subject_key")}


# --- putting it together -------------------------------------------------------------------


def find_decisions(
    *,
    performer: Performer,
    profile: str,
    thresholds: FaceThresholds,
    search: FaceSearch | None,
    hosts: SourceHosts | None = None,
) -> list[Decision]:
    """Every other performer this one might be, with what to do about it, strongest first."""
    performer = Performer.objects.prefetch_related("urls", "aliases", "stash_ids").get(
        pk=performer.pk
    )
    hosts = hosts or SourceHosts.load()
    links = explicit_links(performer, hosts)
    profiles = shared_profiles(performer, hosts)
    names = name_matches(performer)
    gallery = performer_face_vectors(performer_id=performer.pk, profile=profile)
    similar = face_neighbours(gallery, search, thresholds, profile)
    candidates = set(links) | set(profiles) | set(names) | similar
    decided = _decided_pairs(performer, candidates)
    others = Performer.objects.filter(pk__in=candidates).prefetch_related("stash_ids")
    decisions = []
    for other in others:
        if pair_key(performer.pk, other.pk) in decided:
            continue
        findings = PairFindings(
            performer, other, [*links.get(other.pk, []), *profiles.get(other.pk, [])]
        )
        _add_face_evidence(findings, gallery, names.get(other.pk, []), profile, thresholds)
        if any(e.is_strong for e in findings.evidence):
            findings.blockers += _same_endpoint_entries(performer, other)
            findings.blockers += _undone_merge(performer, other)
        decision = decide(findings, thresholds)
        if decision is not None:
            decisions.append(decision)
    return sorted(decisions, key=lambda d: (d.action != "merge", -d.score, str(d.other.pk)))


def _add_face_evidence(
    findings: PairFindings,
    gallery: PerformerFaceVectors,
    shared_names: list[str],
    profile: str,
    thresholds: FaceThresholds,
) -> None:
    other_gallery = performer_face_vectors(performer_id=findings.other.pk, profile=profile)
    findings.faces = (len(gallery), len(other_gallery))
    if len(gallery) == 0 or len(other_gallery) == 0:
        return
    if gallery.vectors.shape[1] != other_gallery.vectors.shape[1]:
        return
    distance = gallery_distance(gallery.vectors, other_gallery.vectors, thresholds.metric)
    if distance is None:
        return
    findings.face_distance = round(distance, 4)
    details = {
        "distance": findings.face_distance,
        "metric": thresholds.metric,
        "faces": list(findings.faces),
        "profile": profile,
    }
    if shared_names and distance < thresholds.name_and_face_max:
        findings.evidence.append(
            Evidence(
                EvidenceKind.NAME_AND_FACE,
                f"both are called {' / '.join(repr(n) for n in shared_names)} and their faces "
                f"are close (gallery distance {distance:.2f})",
                {**details, "names": shared_names},
            )
        )
    elif distance < thresholds.face_only_max:
        findings.evidence.append(
            Evidence(
                EvidenceKind.FACE,
                f"their faces are very close (gallery distance {distance:.2f})",
                details,
            )
        )
