"""Load benchmarks: the busiest minute of a call centre, measured on this machine.

``python -m cti_middleware.bench [names...]`` runs them, prints every figure beside
its target and writes all of them to ``bench/results/<timestamp>.json``.  A figure
that misses its target is reported, never raised: this is a measurement, not a test.
"""
