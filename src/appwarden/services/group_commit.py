"""Group commit: many callers' writes share one transaction on one writer thread.

Callers `submit` a job and wait on its future. The writer takes whatever has queued up (at most
`max_batch`), applies the batch in one go and resolves every future with its own result or
error. Under light load a batch is one job and nobody waits for a timer; under heavy load one
commit (and one re-assessment and one decision-index swap) serves many reports.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Generic, TypeVar

J = TypeVar("J")
R = TypeVar("R")
_STOP = object()


@dataclass
class WriterStats:
    batches: int = 0
    jobs: int = 0

    @property
    def mean_batch(self) -> float:
        return self.jobs / self.batches if self.batches else 0.0


class GroupCommit(Generic[J, R]):
    def __init__(
        self,
        apply: Callable[[Sequence[J]], Sequence[R | BaseException]],
        max_batch: int = 256,
        name: str = "group-commit",
    ) -> None:
        self._apply = apply
        self._max = max(1, max_batch)
        self._name = name
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.stats = WriterStats()

    def submit(self, job: J) -> Future[R]:
        future: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._name} is closed")
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._queue.put((job, future))
        return future

    def close(self, timeout: float = 10.0) -> None:
        """Finish what was submitted, then stop the writer."""
        with self._lock:
            self._closed = True
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self._max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._run_batch(batch)  # type: ignore[arg-type]
            if stop:
                return

    def _run_batch(self, batch: list[tuple[J, Future[R]]]) -> None:
        jobs = [job for job, _ in batch]
        try:
            results = self._apply(jobs)
        except BaseException as exc:  # the whole batch failed: every caller learns why
            for _, future in batch:
                future.set_exception(exc)
            return
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
