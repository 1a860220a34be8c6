"""The static search index: pagefind over the sculpture pages, made deterministic.

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
import shutil
import subprocess
import sys
from pathlib import Path

import cbor2

SEARCH_DIR = "pagefind"
_SIGNATURE = b"pagefind_dcd"


def build_search_index(build_dir: Path) -> None:
    """Index the pages marked data-pagefind-body into build_dir/pagefind/."""
    output = build_dir / SEARCH_DIR
    if output.exists():
        shutil.rmtree(output)
    command = [sys.executable, "-m", "pagefind", "--site", str(build_dir)]
    result = subprocess.run(
        [*command, "--output-subdir", SEARCH_DIR], capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not (output / "pagefind.js").is_file():
        raise RuntimeError(f"pagefind failed:\n{result.stdout}\n{result.stderr}")
    canonicalize(output)


def canonicalize(output: Path) -> None:
    """Sort filter values and rename the files whose bytes that changes."""
    entry_path = output / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = output / f"pagefind.{info['hash']}.pf_meta"
        meta = _read(meta_path)
        filters = []
        for name, old_hash in meta[3]:
            old_path = output / "filter" / f"{old_hash}.pf_filter"
            data = _read(old_path)
            data[1] = sorted(data[1], key=lambda value: value[0])
            new_hash = _write(output / "filter", language, data, "pf_filter", digits=7)
            if new_hash != old_hash:
                old_path.unlink()
            filters.append([name, new_hash])
        meta[3] = sorted(filters)
        new_meta = _write(output, language, meta, "pf_meta", digits=13, prefix="pagefind.")
        if new_meta != info["hash"]:
            meta_path.unlink()
        info["hash"] = new_meta
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")))


def _read(path: Path) -> list:
    raw = gzip.decompress(path.read_bytes())
    if not raw.startswith(_SIGNATURE):
        raise RuntimeError(f"{path} is not a pagefind file this build understands")
    return cbor2.loads(raw[len(_SIGNATURE) :])


def _write(
    folder: Path, language: str, data: list, suffix: str, *, digits: int, prefix: str = ""
) -> str:
    body = _SIGNATURE + cbor2.dumps(data)
    name = f"{language}_{hashlib.sha256(body).hexdigest()[:digits]}"
    (folder / f"{prefix}{name}.{suffix}").write_bytes(gzip.compress(body, 9, mtime=0))
    return name
