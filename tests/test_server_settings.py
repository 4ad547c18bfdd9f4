"""The embedded server's memory settings are sized to the machine and applied at start."""

import os

import psycopg
import pytest

from supercore_core.db import embedded
from supercore_core.db.server_settings import MB, TEST_MEMORY, machine_memory, sized_settings


@pytest.mark.parametrize(
    ("memory_gb", "expected"),
    [
        (1, {"shared_buffers": "256MB", "effective_cache_size": "512MB",
             "maintenance_work_mem": "64MB", "work_mem": "4MB"}),
        (8, {"shared_buffers": "2048MB", "effective_cache_size": "4096MB",
             "maintenance_work_mem": "512MB", "work_mem": "32MB"}),
        (64, {"shared_buffers": "4096MB", "effective_cache_size": "16384MB",
              "maintenance_work_mem": "2048MB", "work_mem": "64MB"}),
    ],
)  # fmt: skip
def test_sized_to_memory_within_caps(memory_gb: int, expected: dict[str, str]) -> None:
    assert sized_settings(memory_gb * 1024 * MB) == expected


def test_machine_memory_is_plausible() -> None:
    assert 256 * MB < machine_memory() < 2**50


embedded_only = pytest.mark.skipif(
    bool(os.environ.get("SUPERCORE_TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")),
    reason="a server on DATABASE_URL is never resized",
)


@embedded_only
def test_the_test_server_runs_with_the_test_budget(server_url: str) -> None:
    """Throwaway test servers take 1 GiB's worth (shared_buffers 256 MB) on any machine."""
    wanted = sized_settings(TEST_MEMORY)
    assert wanted["shared_buffers"] == "256MB"
    with psycopg.connect(server_url) as conn:
        for name, value in wanted.items():
            row = conn.execute(
                "SELECT pg_size_bytes(current_setting(%s)) = pg_size_bytes(%s)", (name, value)
            ).fetchone()
            assert row == (True,), name


@embedded_only
def test_a_second_start_changes_nothing(server_url: str) -> None:
    """Applied settings compare equal (4096MB is 4GB): no restart on every start."""
    assert embedded._apply_required_settings(server_url, TEST_MEMORY) is False
