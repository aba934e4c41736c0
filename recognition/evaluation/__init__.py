"""Measure a profile + decision rule on labelled photos (pure: no Django, no database).

The open-set protocol (`evaluate_directory`, `fit_calibration`) is in `openset`, LFW's pairs
protocol (`evaluate_pairs`) in `pairs`, the HTML report in `report`, and the embedded faces they
share (`EmbeddingCache`) in `records`.
"""

from recognition.evaluation.labelled_faces import (
    DEFAULT_NEIGHBOURS,
    IMAGE_SUFFIXES,
    MAX_IMAGE_PIXELS,
    EmbeddingCache,
    FaceRecord,
    Progress,
    embed_primary_face,
)
from recognition.evaluation.openset import (
    OpenSetSplit,
    evaluate_directory,
    fit_calibration,
    identification_roc,
    list_identities,
    split_open_set,
    tar_at_far,
)
from recognition.evaluation.pairs import evaluate_pairs, read_lfw_pairs, verification_roc
from recognition.evaluation.report import render_report_html

__all__ = [
    "DEFAULT_NEIGHBOURS",
    "IMAGE_SUFFIXES",
    "MAX_IMAGE_PIXELS",
    "EmbeddingCache",
    "FaceRecord",
    "OpenSetSplit",
    "Progress",
    "embed_primary_face",
    "evaluate_directory",
    "evaluate_pairs",
    "fit_calibration",
    "identification_roc",
    "list_identities",
    "read_lfw_pairs",
    "render_report_html",
    "split_open_set",
    "tar_at_far",
    "verification_roc",
]
