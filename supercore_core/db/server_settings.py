"""Memory settings of the embedded server, sized to the machine it runs on.

PostgreSQL's defaults (shared_buffers 128 MB, work_mem 4 MB, maintenance_work_mem 64 MB)
starve both HNSW builds (a graph that outgrows maintenance_work_mem is built far more
slowly) and scans of large oracles. The embedded server is a single-user workbench
database, so it takes the usual shares of the machine's memory (the smaller of physical
RAM and a container's cgroup limit), within caps that keep it a good neighbour:

===================== ==================== =========== ============
setting               share of memory      at least    at most
===================== ==================== =========== ============
shared_buffers        1/4                  128 MB      4 GB
effective_cache_size  1/2                  512 MB      16 GB
maintenance_work_mem  1/16                 64 MB       2 GB
work_mem              1/256                4 MB        64 MB
===================== ==================== =========== ============

Throwaway servers (the test suite, the notebook runs) are sized for ``TEST_MEMORY``
(1 GiB: shared_buffers 256 MB) whatever the machine, since several of them may run at once
on a shared CI machine and shared_buffers is reserved per server. ``make bench`` sizes its
server to the machine like ``supercore db start``, so its figures are what a user gets.

A server on ``DATABASE_URL`` is never changed: size it the same way by hand.
"""

import os
from pathlib import Path

MB = 2**20
TEST_MEMORY = 1024 * MB
# (setting, divisor of memory, floor MB, cap MB)
_SHARES: tuple[tuple[str, int, int, int], ...] = (
    ("shared_buffers", 4, 128, 4096),
    ("effective_cache_size", 2, 512, 16384),
    ("maintenance_work_mem", 16, 64, 2048),
    ("work_mem", 256, 4, 64),
)
_CGROUP_LIMITS = (
    Path("/sys/fs/cgroup/memory.max"),
    Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
)


def machine_memory() -> int:
    """Bytes of memory this process may use: physical RAM, or a lower cgroup limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMITS:
        try:
            limit = path.read_text().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return total


def sized_settings(memory_bytes: int) -> dict[str, str]:
    """The memory settings for a machine with ``memory_bytes``, e.g. ``{"work_mem": "64MB"}``."""
    memory_mb = memory_bytes // MB
    return {
        name: f"{min(max(memory_mb // divisor, floor), cap)}MB"
        for name, divisor, floor, cap in _SHARES
    }
