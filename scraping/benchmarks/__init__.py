"""Benchmarks of the sync: what `manage.py bench_sync` runs (`sync`: faces per second with W
worker processes, resident memory over a long sync), against a local `fakes.FakeStashBox` in
a throwaway database. Nothing in the domain imports this package."""
