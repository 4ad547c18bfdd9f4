"""A vector index per large oracle: exact search below a size, an own HNSW graph above it.

- ``ddl``: the index's name and statements, built from the oracle's UUID alone.
- ``plan``: sizes, thresholds, hysteresis, the ceiling on the number of indexes.
- ``maintain``: the audited build and drop (owner login, CONCURRENTLY), ``sync``.
- ``recall``: recall@10 against exact search, ``ef_search`` calibration.

This package imports nothing at import time, so ``retrieval`` can use ``ddl`` without a cycle.
"""
