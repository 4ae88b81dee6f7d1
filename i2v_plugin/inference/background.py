"""Producer and consumer threads joined to the caller by bounded queues.

The predict pipeline decodes in one thread, runs the model in the caller's thread and writes in
another. Decoding, PNG compression and video encoding spend most of their time in C code that
releases the GIL, so they overlap with the model. Bounded queues keep memory flat when one side
is faster; errors travel through the queues and are raised in the caller.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator

_ITEM, _END, _ERROR = "item", "end", "error"
_POLL_S = 0.1


class PipelineAborted(RuntimeError):
    """Raised inside a consumer whose producer gave up (the consumer should discard its work)."""


class _Channel:
    """A bounded queue whose blocking ``put`` gives up once ``stop`` is set."""

    def __init__(self, maxsize: int):
        if maxsize < 1:
            raise ValueError(f"queue size must be >= 1, got {maxsize}")
        self.queue = queue.Queue(maxsize)
        self.stop = threading.Event()

    def put(self, kind: str, payload=None) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put((kind, payload), timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False


class BackgroundIterator:
    """Iterates ``iterable`` in a daemon thread; iterate this object to receive its items.

    Use as a context manager (or call ``close``) so an early exit stops the thread.
    """

    def __init__(self, iterable: Iterable, maxsize: int = 4, name: str = "producer"):
        self._channel = _Channel(maxsize)
        self._thread = threading.Thread(target=self._run, args=(iterable,), name=name, daemon=True)
        self._thread.start()

    def _run(self, iterable: Iterable) -> None:
        iterator = iter(iterable)
        try:
            for item in iterator:
                if not self._channel.put(_ITEM, item):
                    return
            self._channel.put(_END)
        except BaseException as err:  # noqa: B036  (handed to the caller, which re-raises it)
            self._channel.put(_ERROR, err)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # e.g. a generator's finally blocks close its files in this thread

    def __iter__(self) -> Iterator:
        while True:
            kind, payload = self._channel.queue.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise payload
            yield payload

    def close(self) -> None:
        """Stop the producer (it may be blocked on a full queue) and wait for its thread."""
        self._channel.stop.set()
        self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class BackgroundConsumer:
    """Runs ``consume(items)`` in a daemon thread, where ``items`` yields what ``put`` receives.

    ``finish()`` ends the items, waits, re-raises the consumer's error if any and returns its
    result. ``abort()`` makes ``items`` raise ``PipelineAborted`` instead, so the consumer can
    discard partial output.
    """

    def __init__(self, consume: Callable[[Iterator], object], maxsize: int = 4, name="consumer"):
        self._channel = _Channel(maxsize)
        self._result = None
        self._error: BaseException | None = None
        self._aborted = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(consume,), name=name, daemon=True)
        self._thread.start()

    def _items(self) -> Iterator:
        while True:
            if self._aborted.is_set():
                raise PipelineAborted("the producer stopped early")
            try:
                kind, payload = self._channel.queue.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if kind == _END:
                return
            yield payload

    def _run(self, consume) -> None:
        try:
            self._result = consume(self._items())
        except BaseException as err:  # noqa: B036  (re-raised by put / finish in the caller)
            self._error = err
            self._channel.stop.set()  # unblocks a caller waiting on a full queue

    def _raise_if_failed(self) -> None:
        if self._error is not None and not isinstance(self._error, PipelineAborted):
            raise self._error

    def put(self, item) -> None:
        """Hand one item to the consumer; raises the consumer's error if it has failed."""
        self._raise_if_failed()
        if not self._channel.put(_ITEM, item):
            self._thread.join()
            self._raise_if_failed()

    def finish(self):
        """Signal the end of the items, wait for the consumer and return its result."""
        self._raise_if_failed()
        self._channel.put(_END)
        self._thread.join()
        self._raise_if_failed()
        return self._result

    def abort(self) -> None:
        """Make the consumer stop with ``PipelineAborted`` and wait for it."""
        self._aborted.set()
        self._channel.stop.set()
        self._thread.join()
