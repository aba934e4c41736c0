"""Benchmarks of the engine, the gallery index and identification: what the bench_* commands run.

- `engine`: the profile's stages and multi-process throughput (`manage.py bench_identify`,
  or `python -m recognition.benchmarks.engine` without Django).
- `identify`: identification of a photo and of a scene end to end (`bench_identify`,
  `stash`'s `bench_scan`).
- `sprites`: Stash-style sprites made of real tiles, the scenes those two time.
- `synthetic_gallery`: galleries of generated faces shaped like dlib's descriptors.
- `index`: the gallery index benchmark on them (`manage.py bench_index`).

Nothing in the domain imports this package; it prints numbers that tests never assert.
"""
