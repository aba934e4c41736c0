"""What the Stash side tells the layers above it; it sends, it never imports them."""

from __future__ import annotations

from django.dispatch import Signal

# Plugin feedback a curator should look at (a rejection, or a confirmation the gallery doubts).
# Arguments: `payload` (the case: scene, person, candidates, thumbnail, decision) and `score`
# (0-1, how telling it is). The review domain answers with the id of the item it opened.
review_requested = Signal()
