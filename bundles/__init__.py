"""Gallery bundles: one versioned file that carries a profile's whole gallery, or its changes.

- `format`: the file (members, manifest, versions, checksums); `reader` opens and verifies it.
- `export.bundle_export`: writes a full bundle or a delta `--since` an earlier export, with
  change tracking in `ledger` (hashes of every record per export, so deletions show too).
- `importer.bundle_import`: checks everything, then applies the bundle in one transaction and
  switches the index atomically; `graph` and `faces` apply the records, `decisions` says which
  local curation decisions an import never undoes.
- `download.bundle_download`: fetches a bundle by URL into a partial file, resuming with Range.
"""
