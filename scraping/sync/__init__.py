"""The sync engine: stages of a run (`engine`), one item per performer (`recorder`), graph
writes (`upsert`), photo work (`items`), holding a run (`runs`), upstream clients (`clients`).

It knows no kind of source: each kind implements `scraping.sources.base.UpstreamSource` in
its own folder, and `scraping.sources.registry` says which serves a source.
Entry points for commands, tasks and the admin are in `scraping.services`.
"""
