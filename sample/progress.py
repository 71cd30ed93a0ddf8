"""The generator's progress bar (rich), for `jamsostek generate`: on stderr, only when stderr is a terminal and the
user did not ask for quiet; otherwise nothing is printed at all.

    with progress_bar(quiet=args.quiet) as progress:
        generate(landing, truth, progress=progress)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(quiet: bool = False, console=None) -> Iterator[Callable[[int, int, str], None] | None]:
    """A `progress(done, total, what)` callback drawing a bar (people drawn and written out of all the people);
    None when quiet or not on a terminal (generate() then reports nothing)."""
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)

    console = console or Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    columns = (TextColumn("generate: {task.description:<36}"), BarColumn(), TaskProgressColumn(),
               MofNCompleteColumn(), TextColumn("people"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("people", total=None)

        def advance(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        yield advance
