"""Progress of the long CLI jobs: a bar on a terminal, nothing in a log, a pipe or CI.

Every long command (``atlas demo``, ``ingest``, ``maps build``, ``tiles seed``, ``export
pmtiles``) draws its bar through here, so one rule holds for all: a bar is drawn on stderr only
when stderr is a terminal and ``--quiet`` was not given. Redirected to a file or a journal, a
bar's carriage-return redraws would be hundreds of lines of noise around the result, so nothing
is drawn there; what a command prints on stdout is the same either way.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sized
from typing import TextIO, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def on_terminal(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Whether to draw progress: not ``quiet``, and ``stream`` (stderr) is a terminal."""
    if quiet:
        return False
    stream = sys.stderr if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced by an object without isatty, or closed
        return False


def bar(*, desc: str = "", total: int | None = None, unit: str = "it", quiet: bool = False) -> tqdm:
    """A bar on stderr that draws only on a terminal; it is erased when closed (results stay)."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=not on_terminal(quiet),
        leave=False,
        dynamic_ncols=True,
    )


def track(
    items: Iterable[T],
    *,
    desc: str = "",
    total: int | None = None,
    unit: str = "it",
    quiet: bool = False,
) -> Iterator[T]:
    """``items`` with a bar counting them (see :func:`bar`); ``total`` defaults to their len."""
    if total is None and isinstance(items, Sized):
        total = len(items)
    with bar(desc=desc, total=total, unit=unit, quiet=quiet) as progress:
        for item in items:
            yield item
            progress.update(1)


def echo(line: str) -> None:
    """A result line on stdout that does not break a bar being drawn on the same terminal."""
    tqdm.write(line, file=sys.stdout)
