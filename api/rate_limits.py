"""Request limits kept in memory, per process: failed key attempts per client address, expensive requests per key.

Each limit is a sliding window: at most ``limit`` events in the last ``window_s`` seconds per subject (an address,
a key). The counts live in the process that served the requests: with several uvicorn workers each counts its own
(a client may get up to workers x limit), and a restart forgets them. Thread-safe (sync routes and dependencies run
in the thread pool).
"""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time
from collections.abc import Callable, Hashable

MAX_SUBJECTS = 10_000
"""Subjects tracked before those with no event left in the window are dropped (bounded memory)."""


class SlidingWindowLimit:
    """At most ``limit`` events per subject in any ``window_s`` seconds."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._events: dict[Hashable, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, subject: Hashable, now: float) -> collections.deque[float]:
        events = self._events.get(subject)
        if events is None:
            if len(self._events) >= MAX_SUBJECTS:
                self._forget_idle(now)
            events = self._events[subject] = collections.deque()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        return events

    def _forget_idle(self, now: float) -> None:
        idle = [s for s, events in self._events.items() if not events or events[-1] <= now - self.window_s]
        for subject in idle:
            del self._events[subject]

    def retry_after_s(self, subject: Hashable) -> int | None:
        """Whole seconds until the subject may act again; None when it may now."""
        with self._lock:
            now = self._clock()
            events = self._recent(subject, now)
            if len(events) < self.limit:
                return None
            return max(1, math.ceil(events[0] + self.window_s - now))

    def record(self, subject: Hashable) -> None:
        """Counts one event of the subject now."""
        with self._lock:
            now = self._clock()
            self._recent(subject, now).append(now)

    def take(self, subject: Hashable) -> int | None:
        """Counts one event when the limit allows it and answers None; else the seconds to wait (nothing counted)."""
        with self._lock:
            now = self._clock()
            events = self._recent(subject, now)
            if len(events) >= self.limit:
                return max(1, math.ceil(events[0] + self.window_s - now))
            events.append(now)
            return None


@dataclasses.dataclass
class RequestLimits:
    """The limits of one app: failed key attempts per client address, expensive requests per key."""

    failed_auth: SlidingWindowLimit
    expensive: SlidingWindowLimit
