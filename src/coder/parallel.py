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
- a worker that dies (out of memory, killed): the items it had not sent are done again here.

The function must return picklable values; it should turn the errors the user must see into
values (the caller re-raises them in order), since an exception in a worker comes back here
pickled, in its chunk's turn, without the worker's traceback. Workers ignore Ctrl-C: this
process stops them (they only compute, so nothing is lost) and raises
:class:`KeyboardInterrupt`. No worker ever waits for this process: who does which chunk is
settled in shared memory, and each worker's results are written into its pipe by a thread of
its own (see :class:`_Pool`).
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
    chunks = [items[i:i + CHUNK] for i in range(0, len(items), CHUNK)]
    pool = _Pool(function, chunks, workers)
    try:
        if meanwhile is not None:
            meanwhile()
    except BaseException:
        pool.stop()
        raise
    return _Results(pool.results(), pool)


class _Pool:
    """Forked workers taking chunks from the front, this process taking them from the back.

    Who does which chunk is decided in shared memory (``claims``: 0 nobody yet, ``k`` worker
    ``k``, −1 this process), under a lock, so that no worker ever waits for this process to
    hand it work. A worker pickles each chunk's results and leaves them to a thread of its
    own that writes them into its pipe: it never waits for this process to read either.
    This process reads a pipe only when it needs the next result in order.
    """

    def __init__(self, function: Callable, chunks: list, workers: int):
        import multiprocessing

        context = multiprocessing.get_context("fork")
        self.function, self.chunks = function, chunks
        self.claims = context.RawArray("i", len(chunks))
        self.ends = context.RawArray("l", [0, len(chunks) - 1])  # front, back: unclaimed
        self.lock = context.Lock()
        pipes = [context.Pipe(duplex=False) for _ in range(workers)]
        self.readers = {}  # worker number → the end this process reads
        self.processes = {}
        self.received: set[int] = set()  # chunks a worker has sent
        try:
            for k, (reader, writer) in enumerate(pipes, start=1):
                process = context.Process(target=self._work, args=(k, writer, pipes),
                                          daemon=True)
                process.start()
                self.processes[k], self.readers[k] = process, reader
        except BaseException:
            self.stop()
            raise
        finally:
            for _, writer in pipes:  # a worker's end of the pipe is only the worker's
                writer.close()

    # ---------------------------------------------------------------- in a worker

    def _work(self, k: int, writer, pipes) -> None:
        import pickle
        import queue
        import signal
        import threading

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
        for reader, other in pipes:  # the pipe ends kept open here: only its own writer
            reader.close()
            if other is not writer:
                other.close()
        out: queue.SimpleQueue = queue.SimpleQueue()
        gone = threading.Event()  # this process's reader has gone: stop

        def send() -> None:
            while (payload := out.get()) is not None:
                try:
                    writer.send_bytes(payload)
                except OSError:
                    gone.set()
                    return

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        function, chunks = self.function, self.chunks
        while not gone.is_set() and (index := self._claim_front(k)) is not None:
            try:
                results = [function(item) for item in chunks[index]]
                payload = pickle.dumps((index, True, results), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # re-raised in this chunk's turn by the parent
                payload = pickle.dumps((index, False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
            out.put(payload)
        out.put(None)
        sender.join()
        writer.close()

    def _claim_front(self, k: int) -> int | None:
        claims, ends = self.claims, self.ends
        with self.lock:
            while ends[0] <= ends[1] and claims[ends[0]] != 0:
                ends[0] += 1  # taken by this process out of turn
            if ends[0] > ends[1]:
                return None
            index = ends[0]
            claims[index] = k
            ends[0] += 1
            return index

    # ---------------------------------------------------------------- in this process

    def _take(self, index: int) -> bool:
        """Claim chunk ``index`` for this process, if nobody has it."""
        with self.lock:
            if self.claims[index] != 0:
                return False
            self.claims[index] = -1
            return True

    def _take_back(self) -> int | None:
        claims, ends = self.claims, self.ends
        with self.lock:
            while ends[1] >= ends[0] and claims[ends[1]] != 0:
                ends[1] -= 1
            if ends[1] < ends[0]:
                return None
            index = ends[1]
            claims[index] = -1
            ends[1] -= 1
            return index

    def results(self) -> Iterator:
        function, chunks = self.function, self.chunks
        ready: dict[int, tuple[bool, object]] = {}  # chunk → (ok, results or the error)
        try:
            for index in range(len(chunks)):
                while index not in ready:
                    if self._take(index):  # no worker got this far, or one died with it
                        ready[index] = (True, None)
                    elif not self._receive(ready, block=False):
                        back = self._take_back()  # rather than wait: work from the back
                        if back is not None:
                            ready[back] = (True, [function(item) for item in chunks[back]])
                        else:
                            self._receive(ready, block=True)
                ok, value = ready.pop(index)
                if not ok:
                    raise value
                if value is None:  # taken in turn: each result as it is made
                    yield from (function(item) for item in chunks[index])
                else:
                    yield from value
        finally:
            self.stop()

    def _receive(self, ready: dict, *, block: bool) -> bool:
        """Read what the workers have sent (waiting for something when ``block``); a worker
        that has ended gives its unfinished chunks back. Whether anything came."""
        import pickle
        from multiprocessing.connection import wait

        if not self.readers:
            return False
        came = False
        for reader in wait(list(self.readers.values()), timeout=None if block else 0):
            k = next(k for k, r in self.readers.items() if r is reader)
            try:
                index, ok, value = pickle.loads(reader.recv_bytes())
            except (EOFError, OSError):  # the worker has ended (done, or killed)
                self._retire(k, ready)
            else:
                ready[index] = (ok, value)
                self.received.add(index)
            came = True
        return came

    def _retire(self, k: int, ready: dict) -> None:
        self.readers.pop(k).close()
        self.processes.pop(k).join()
        with self.lock:  # what it claimed but never sent is nobody's again
            for index in range(len(self.chunks)):
                if self.claims[index] == k and index not in self.received:
                    self.claims[index] = 0

    def stop(self) -> None:
        """An error the caller raises, Ctrl-C, or the end: no more work is handed out and no
        worker is left behind (they only compute: stopping one loses nothing)."""
        with self.lock:
            self.ends[0], self.ends[1] = len(self.chunks), -1
        for process in self.processes.values():
            if process.is_alive():
                process.kill()
            process.join()
        for reader in self.readers.values():
            reader.close()
        self.processes, self.readers = {}, {}


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a RuntimeError that says what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc} (in a worker process)")
    return exc


class _Results:
    """The results of :func:`_parallel` in order; :meth:`close` releases the workers even
    when no result was asked for (a generator that never started runs no ``finally``)."""

    def __init__(self, results: Iterator, pool: _Pool):
        self._results = results
        self._pool = pool

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._results)

    def close(self) -> None:
        self._results.close()
        self._pool.stop()


__all__ = ["cpus", "jobs_for", "ordered_map"]
