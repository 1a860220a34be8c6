"""Canonical pagefind bundles: two builds of the same content give the same bytes.

pagefind (shipped as a wheel with its binary; works offline) writes filter
values in hash-map order, which changes from run to run, so two builds of the
same content would differ and every publish would upload a "new" index. After
it runs, each filter file is rewritten with its values sorted and renamed by a
hash of its content, and the metadata file that lists the filters is updated
the same way. The files are pagefind's own format: a signature, then CBOR,
gzip-compressed; the JavaScript finds files by the names the metadata gives.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Mapping

import cbor2

_SIGNATURE = b"pagefind_dcd"


def canonicalize(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The bundle with its filter values sorted, and the files that changes renamed."""
    files = dict(files)
    entry = json.loads(files["pagefind-entry.json"])
    for language, info in entry["languages"].items():
        meta = _decode(files, f"pagefind.{info['hash']}.pf_meta")
        filters = []
        for name, old_hash in meta[3]:
            data = _decode(files, f"filter/{old_hash}.pf_filter")
            data[1] = sorted(data[1], key=lambda value: value[0])
            new_hash = _encode(files, "filter/{}.pf_filter", language, data, digits=7)
            filters.append([name, new_hash])
        meta[3] = sorted(filters)
        info["hash"] = _encode(files, "pagefind.{}.pf_meta", language, meta, digits=13)
    files["pagefind-entry.json"] = json.dumps(
        entry, ensure_ascii=False, separators=(",", ":")
    ).encode()
    return files


def _decode(files: dict[str, bytes], path: str) -> list:
    """Take a file out of the bundle and read it: a signature, then CBOR, gzip-compressed."""
    raw = gzip.decompress(files.pop(path))
    if not raw.startswith(_SIGNATURE):
        raise RuntimeError(f"{path} is not a pagefind file this build understands")
    return cbor2.loads(raw[len(_SIGNATURE) :])


def _encode(files: dict[str, bytes], path: str, language: str, data: list, *, digits: int) -> str:
    """Put a file into the bundle under a name made from its content; returns that name."""
    body = _SIGNATURE + cbor2.dumps(data)
    name = f"{language}_{hashlib.sha256(body).hexdigest()[:digits]}"
    files[path.format(name)] = gzip.compress(body, 9, mtime=0)
    return name
