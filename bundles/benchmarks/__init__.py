"""Benchmarks of gallery bundles: what `manage.py bench_bundle` runs (`bundle`: export and
import time and peak memory on synthetic galleries). Nothing in the domain imports this
package."""
