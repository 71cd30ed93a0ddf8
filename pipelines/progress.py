"""Progress of a run as it goes, for `jamsostek run` and `demo`: a line per step as it finishes, with the run's
elapsed time, the step's own time and the rows its assets wrote (their `dagster/row_count` metadata).

A Dagster logger (`step_progress`), so it sees the run's own events; runs launched from the UI or a schedule
do not configure it and print nothing. The CLI turns it on only when stderr is a terminal and not `--quiet`:

       4.1 s  ok      staging/pu_participants                          88,357 rows     0.9 s
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

import dagster as dg

ROW_COUNT = "dagster/row_count"


class StepProgress(logging.Handler):
    """Writes a line to `stream` for every step that ends in the run's events. Status: ok; warn (a check of the step
    failed with severity WARN); FAILED (the step, or a check of severity ERROR); skipped (upstream failed)."""

    def __init__(self, stream: TextIO):
        super().__init__(logging.DEBUG)
        self.stream = stream
        self.started = time.monotonic()
        self.rows: dict[str, int] = {}      # step key -> rows its materialisations reported
        self.check_status: dict[str, str] = {}  # step key -> "warn" (a check warned) or "FAILED" (one failed)

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None or event.step_key is None:
            return
        step = event.step_key
        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            value = event.event_specific_data.materialization.metadata.get(ROW_COUNT)
            if value is not None:
                self.rows[step] = self.rows.get(step, 0) + int(value.value)
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not evaluation.passed:  # a warning is worth a look; an error stops what depends on it
                if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                    self.check_status[step] = "FAILED"
                else:
                    self.check_status.setdefault(step, "warn")
        elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
                                  dg.DagsterEventType.STEP_SKIPPED):
            self.write(step, event)

    def write(self, step: str, event: dg.DagsterEvent) -> None:
        status = {dg.DagsterEventType.STEP_SUCCESS: "ok", dg.DagsterEventType.STEP_FAILURE: "FAILED",
                  dg.DagsterEventType.STEP_SKIPPED: "skipped"}[event.event_type]
        if status == "ok":
            status = self.check_status.get(step, "ok")
        rows = f"{self.rows[step]:,} rows" if step in self.rows else ""
        duration_ms = getattr(event.event_specific_data, "duration_ms", None)
        took = f"{duration_ms / 1000:6.1f} s" if duration_ms is not None else ""
        name = step.replace("__", "/")  # the asset key, as the UI writes it
        self.stream.write(f"{time.monotonic() - self.started:8.1f} s  {status:<8}{name:<48} {rows:>16} {took}\n")
        self.stream.flush()


@dg.logger(description="A line per finished step on stderr: elapsed time, status, rows written, step time.")
def step_progress(init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.Logger("jamsostek.progress", level=logging.DEBUG)
    logger.addHandler(StepProgress(sys.stderr))
    return logger


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Progress lines only for a person watching: stderr (or `stream`) is a terminal and `--quiet` was not given."""
    return not quiet and (stream or sys.stderr).isatty()
