"""What the identity graph tells the layers above it; it sends, it never imports them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the merge's transaction, after the sources are deleted. Arguments: `record` (the
# MergeRecord), `target` (the Performer kept) and `source_keys` (ids of the performers folded
# into it, as strings). Whatever names a source should now name the target.
performers_merged = Signal()

# Sent inside the undo's transaction, after the sources are restored with their old ids.
# Arguments: `record` (the MergeRecord, now undone) and `restored` (the Performers back).
performers_unmerged = Signal()
