"""What a sync tells the layers above it; it sends, it never imports them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent when a synced item's photos are in. Arguments: `performer`, `faces` (the item's new
# Face rows) and `resolve` (the entry is new or changed, or gained faces: look for other
# identities of it). Receivers answer with a list of error strings: checks that listen here
# are advice, so the sync records their errors on the item and goes on.
item_synced = Signal()
