"""Ordered work on several cores, for the bulk steps of a command (parsing 1,000 transcripts).

:func:`ordered_map` applies a function to every item and returns the results **in the items'
order**, as a plain loop would. With ``jobs`` processes, ``jobs − 1`` forked workers take the
items from the front while this process first does what the caller has to do meanwhile
(``coder import`` loads the database layer and opens the project), then hands out the
results in order, taking items from the back whenever the next result is not there yet,
until the two ends meet. It is a plain loop when parallel work would not pay or is not safe,
and the caller cannot tell the two apart except by the time taken:

- one core, few items (:data:`MIN_ITEMS`), or ``jobs=1`` (the environment variable
  ``CODER_JOBS`` sets the number of processes: ``CODER_JOBS=1`` turns it off);
- a platform without ``fork`` (the workers inherit the function's context; nothing is pickled
  on the way in), or another thread alive in this process (forking then can copy a lock held
  by that thread into the child);
- a worker that dies (out of memory, killed): the items it had are done again here.

The function must return picklable values; it should turn the errors the user must see into
values (the caller re-raises them in order), since an exception in a worker is re-raised here
with a traceback of the worker. Workers ignore Ctrl-C: this process stops handing out work and
raises :class:`KeyboardInterrupt` once the chunks being worked on are done (a few files).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS = 64      # below this, starting workers costs more than it saves
CHUNK = 16          # items per task: few tasks, yet the two ends meet closely
MAX_JOBS = 4        # beyond this, this process's own share (reading the results) dominates

_FUNCTION: Callable | None = None  # what the forked workers run (inherited, not pickled)


def cpus() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def jobs_for(count: int, jobs: int | None = None) -> int:
    """How many processes :func:`ordered_map` uses for ``count`` items, this one included
    (1: no workers)."""
    if jobs is None:
        value = os.environ.get("CODER_JOBS", "").strip()
        jobs = int(value) if value.isdigit() and int(value) > 0 else min(cpus(), MAX_JOBS)
    if jobs <= 1 or count < MIN_ITEMS:
        return 1
    import multiprocessing
    import threading

    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    return min(jobs, max(1, count // CHUNK))


def ordered_map(function: Callable[[T], R], items: Sequence[T], *, jobs: int | None = None,
                meanwhile: Callable[[], object] | None = None) -> Iterator[R]:
    """``function(item)`` for every item, in order, on several processes when it pays.

    ``meanwhile`` runs once, while the workers start on the items (before the first item,
    in a plain loop). The results come as an iterator; closing it releases the workers.
    Whenever the next result is not there yet, this process takes the last item no worker
    has started (work it would otherwise spend waiting); what the caller does with each
    result meanwhile (writing it to the database) runs while the workers go on.
    """
    processes = jobs_for(len(items), jobs)
    if processes <= 1:
        if meanwhile is not None:
            meanwhile()
        return (function(item) for item in items)
    return _parallel(function, items, processes - 1, meanwhile)


def _parallel(function: Callable[[T], R], items: Sequence[T], workers: int,
              meanwhile: Callable[[], object] | None) -> Iterator[R]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _FUNCTION
    chunks = [list(items[i:i + CHUNK]) for i in range(0, len(items), CHUNK)]
    _FUNCTION = function
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_ignore_interrupts)
    try:
        futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        _shutdown(pool)
        raise
    return _Results(_collect(function, pool, chunks, futures), pool)


def _collect(function, pool, chunks, futures) -> Iterator:
    from concurrent.futures.process import BrokenProcessPool

    own: dict[int, list] = {}  # chunks done here, taken from the back
    back = len(chunks) - 1     # the last chunk that may still be taken
    broken = False
    try:
        for index, future in enumerate(futures):
            while index not in own and not future.done() and back > index:
                if not futures[back].cancel():
                    back = index  # the workers have got this far: nothing left to take
                    break
                own[back] = [function(item) for item in chunks[back]]
                back -= 1
            if index in own:
                yield from own.pop(index)
                continue
            if not broken:
                try:
                    yield from future.result()
                    continue
                except BrokenProcessPool:  # a worker died: the rest is done here
                    broken = True
            yield from (function(item) for item in chunks[index])
    finally:
        _shutdown(pool)


class _Results:
    """The results of :func:`_parallel` in order; :meth:`close` releases the workers even
    when no result was asked for (a generator that never started runs no ``finally``)."""

    def __init__(self, results: Iterator, pool):
        self._results = results
        self._pool = pool

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._results)

    def close(self) -> None:
        self._results.close()
        _shutdown(self._pool)


def _shutdown(pool) -> None:
    """An error the caller raises, Ctrl-C, or the end: hand out no more work and wait for the
    chunks being worked on (a worker is never left behind)."""
    global _FUNCTION
    pool.shutdown(wait=True, cancel_futures=True)
    _FUNCTION = None


def _run_chunk(chunk: list) -> list:
    function = _FUNCTION
    assert function is not None, "ordered_map's worker started without its function"
    return [function(item) for item in chunk]


def _ignore_interrupts() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


__all__ = ["cpus", "jobs_for", "ordered_map"]
