"""The sync engine: stages of a run (`engine`), one item per performer (`recorder`), graph
writes (`upsert`), photo work (`items`), holding a run (`runs`), upstream clients (`clients`).

Entry points for commands, tasks and the admin are in `scraping.services`.
"""
