"""One progress-bar helper so every long loop looks the same (count, rate, ETA) and libraries stay quiet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text


class _RateColumn(ProgressColumn):
    """Items per second."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f}/s" if task.speed else "-/s")


class _CountColumn(ProgressColumn):
    """Done of total with thousands separators: 4,096/14,640."""

    def render(self, task: Task) -> Text:
        total = f"{task.total:,.0f}" if task.total is not None else "?"
        return Text(f"{task.completed:,.0f}/{total}")


@contextmanager
def progress_bar(description: str, total: int, *, show: bool, completed: int = 0) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draw a bar with count, rate and ETA only when ``show`` is true.

    ``completed`` is work already done before this run (a resumed cache): the bar starts there, so it shows the
    true position, while rate and time left count only what this run does.
    """
    if not show:
        yield lambda n: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), _CountColumn(), _RateColumn(),
               TimeRemainingColumn())
    with Progress(*columns) as progress:
        task = progress.add_task(description, total=total, completed=completed)
        yield lambda n: progress.advance(task, n)
