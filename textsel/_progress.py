"""One progress-bar helper so every long loop looks the same (count, rate, ETA) and libraries stay quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text


class _RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "-/s")


@contextmanager
def progress_bar(description: str, total: int, *, show: bool) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draw a bar with count, rate and ETA only when ``show`` is true."""
    if not show:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _RateColumn(),
               TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
