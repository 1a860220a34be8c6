"""`_publish/<area>/live.json`: which release an area serves, and any change in progress.

It is the only mutable record publish keeps. It is written twice per change:

- before the first object is touched, with `state: changing`, the target
  release, every key the change will write or delete (`dirty`) and the paths to
  invalidate: if the process dies, the next run (publish or rollback) knows
  exactly which keys may hold either version, looks at those alone, and
  finishes or redoes the work;
- after the invalidation, with `state: live`.

`history` lists the retained releases (their manifests exist), oldest first: the
rollback targets, and what garbage collection walks. `collect` lists releases
taken out of the history whose files and manifests are being deleted.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from storefront.publish.plan import ReleaseRef

LIVE = "live"
CHANGING = "changing"


@dataclass(frozen=True)
class Pointer:
    release: str | None  # what the area served when the last change completed
    state: str = LIVE
    previous: str | None = None
    target: str | None = None  # the release a change in progress is making live
    dirty: tuple[str, ...] = ()
    invalidate: tuple[str, ...] = ()
    history: tuple[ReleaseRef, ...] = ()
    collect: tuple[ReleaseRef, ...] = ()
    invalidation: str | None = None
    changed_at: str = ""
    #: Anything the code does not know (a newer version wrote it): kept, never dropped.
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def changing(self) -> bool:
        return self.state == CHANGING

    def ref(self, release: str | None) -> ReleaseRef | None:
        return next((ref for ref in reversed(self.history) if ref.release == release), None)

    def to_json(self) -> bytes:
        document = {key: value for key, value in asdict(self).items() if key != "extra"}
        for name in ("history", "collect"):
            document[name] = [[ref.stamp, ref.release] for ref in getattr(self, name)]
        document["dirty"], document["invalidate"] = list(self.dirty), list(self.invalidate)
        return json.dumps({**self.extra, **document}, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Pointer:
        document = json.loads(data)
        names = set(cls.__dataclass_fields__) - {"extra"}
        known = {name: document[name] for name in names if name in document}
        for name in ("history", "collect"):
            known[name] = tuple(
                ReleaseRef(stamp, release) for stamp, release in known.get(name, [])
            )
        for name in ("dirty", "invalidate"):
            known[name] = tuple(known.get(name) or ())
        extra = {key: value for key, value in document.items() if key not in names}
        return cls(**known, extra=extra)


EMPTY = Pointer(None)
