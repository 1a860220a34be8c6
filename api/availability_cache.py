"""A short in-process cache of encoded ``GET /api/v1/availability`` bodies.

The busiest route answers the same few id lists over and over (every page view
asks for the pieces on that page). The responses already allow five seconds of
CDN caching, so keeping an encoded body for about a second per process
(``API_AVAILABILITY_CACHE_SECONDS``, default 1, 0 turns it off) changes nothing
a visitor can rely on, and spares the store and the encoder on most requests.

What keeps it honest:

* only that route reads it; holds, releases and sales always ask the store,
  whose conditional writes alone decide whether a unit is free;
* every write view of this process invalidates it (``invalidates_availability``
  in ``api.views``), so the writer's client sees its own hold on its next read;
* a generation counter closes the race between a read that started before a
  write and stores its (older) result after the write invalidated the cache;
* a request sent with ``Cache-Control: no-cache`` (or ``max-age=0``), as the site
  sends right after a hold, skips the cache on whichever process serves it;
* entries are bounded in number and in age; time is the app's ``CLOCK``.

Other processes and nodes may serve an answer up to the TTL old, like the CDN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

#: Enough for every distinct id list a busy site asks within a second; bounds memory
#: (each key is at most a URL's length, each body at most ``MAX_IDS`` items).
MAX_ENTRIES = 512


class AvailabilityCache:
    """Encoded bodies keyed by query string, each valid for ``ttl_seconds``.

    ``get`` takes no lock (one dict lookup is atomic under the GIL); ``put`` and
    ``invalidate`` share a lock so a stale ``put`` can never land after an
    ``invalidate`` that should have superseded it.
    """

    def __init__(
        self, ttl_seconds: float, clock: Callable[[], float], max_entries: int = MAX_ENTRIES
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.enabled = ttl_seconds > 0
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[bytes, tuple[float, bytes]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Read before asking the store; hand back to ``put`` with the answer."""
        return self._generation

    def get(self, key: bytes) -> bytes | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        return None

    def put(self, key: bytes, body: bytes, generation: int) -> None:
        """Keep ``body`` unless a write invalidated the cache since ``generation`` was read."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self._generation:
                return
            now = self._clock()
            if len(self._entries) >= self.max_entries and key not in self._entries:
                self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
                if len(self._entries) >= self.max_entries:
                    self._entries = {}
            self._entries[key] = (now + self.ttl_seconds, body)

    def invalidate(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries = {}

    def __len__(self) -> int:
        return len(self._entries)
