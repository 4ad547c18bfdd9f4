"""The doctor's report: one ``Check`` per check, thresholds, and small query helpers."""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import Connection, text

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Limits:
    """Thresholds of the warning checks, in seconds and ratios."""

    idle_in_transaction_s: int = 60
    long_running_s: int = 300
    stalled_workflow_s: int = 600
    dead_tuple_ratio: float = 0.2
    dead_tuple_min: int = 1000
    leaf_density_pct: float = 50.0  # b-tree bloat, measured when pgstattuple is installed
    bloat_min_bytes: int = 1_000_000
    recall_samples: int = 20  # queries (midpoints of stored chunks) per oracle with a graph


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class DoctorReport:
    """All checks, in the order they ran."""

    checks: list[Check]

    @property
    def failed(self) -> list[Check]:
        """The checks that break isolation or correctness."""
        return [c for c in self.checks if c.status == "fail"]

    @property
    def healthy(self) -> bool:
        """No check failed (warnings allowed)."""
        return not self.failed

    def to_frame(self) -> Any:
        """The checks as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.checks], columns=["name", "status", "detail"])


CheckFn = Callable[[Connection, Limits], Check]


def query_value(conn: Connection, sql: str, **params: Any) -> Any:
    """The first column of the first row."""
    return conn.execute(text(sql), params).scalar()


def query_rows(conn: Connection, sql: str, **params: Any) -> list[Any]:
    """Every row."""
    return list(conn.execute(text(sql), params).all())


def verdict(name: str, problems: list[str], ok: str, status: Status = "fail") -> Check:
    """``status`` listing the problems if there are any, else ok."""
    if problems:
        return Check(name, status, "; ".join(problems))
    return Check(name, "ok", ok)
