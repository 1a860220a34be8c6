"""The pagefind service client: records in, a search bundle out, and clear errors."""

from __future__ import annotations

import gzip
import json
import sys
import threading
from collections.abc import Iterator

import pytest
from storefront.search.pagefind_client import PagefindError, PagefindService, service_command


@pytest.fixture
def service() -> Iterator[PagefindService]:
    with PagefindService(service_command()) as running:
        yield running


def record(n: int, words: int = 5) -> dict:
    return {
        "url": f"/esculturas/peca-{n}/",
        "content": f"Peça {n} em bronze. " + "escultura " * words,
        "language": "pt-BR",
        "meta": {"title": f"Peça {n}"},
        "filters": {"material": ["bronze"]},
        "sort": {"preço": f"{n:012d}"},
    }


def fragments(files: dict[str, bytes]) -> dict[str, dict]:
    """The records of a bundle's fragments (each: a signature, then JSON, gzip-compressed)."""
    found = {}
    for path, body in files.items():
        if path.startswith("fragment/"):
            data = json.loads(gzip.decompress(body).removeprefix(b"pagefind_dcd"))
            found[data["url"]] = data
    return found


def test_records_become_a_bundle(service: PagefindService) -> None:
    index = service.new_index({"force_language": "pt-BR"})
    assert service.add_records(index, [record(n) for n in range(3)]) == 3
    files = service.get_files(index)
    assert {"pagefind.js", "pagefind-entry.json", "pagefind-ui.js"} <= set(files)
    assert json.loads(files["pagefind-entry.json"])["languages"]["pt-BR"]["page_count"] == 3
    found = fragments(files)
    assert set(found) == {f"/esculturas/peca-{n}/" for n in range(3)}
    assert found["/esculturas/peca-1/"]["meta"]["title"] == "Peça 1"
    assert found["/esculturas/peca-1/"]["filters"] == {"material": ["bronze"]}


def test_a_batch_larger_than_both_pipes_goes_through(service: PagefindService) -> None:
    # About 4 MB of requests and a reply per record, then a reply of several MB.
    index = service.new_index({})
    assert service.add_records(index, [record(n, words=300) for n in range(1500)]) == 1500
    assert len(fragments(service.get_files(index))) == 1500


def test_indexes_are_separate_and_the_service_stays_usable_after_a_refusal(
    service: PagefindService,
) -> None:
    first = service.new_index({})
    service.add_records(first, [record(1)])
    with pytest.raises(PagefindError, match="refused 1 of 2 requests: missing field `content`"):
        service.add_records(first, [record(2), {"url": "/sem-texto/", "language": "pt"}])
    second = service.new_index({})
    service.add_records(second, [record(3)])
    first_urls = set(fragments(service.get_files(first)))
    assert first_urls == {"/esculturas/peca-1/", "/esculturas/peca-2/"}
    assert set(fragments(service.get_files(second))) == {"/esculturas/peca-3/"}


def test_an_unknown_index_is_refused(service: PagefindService) -> None:
    with pytest.raises(PagefindError, match="does not yet exist"):
        service.add_records(999, [record(1)])


def test_a_service_that_stops_is_reported_with_its_error_output() -> None:
    command = (sys.executable, "-c", "import sys; sys.stdin.read(1); sys.exit('disco cheio')")
    with PagefindService(command) as broken, pytest.raises(PagefindError, match="disco cheio"):
        broken.new_index({})


class Failing:
    """Records made lazily, the third of which cannot be made."""

    def __len__(self) -> int:
        return 5

    def __iter__(self) -> Iterator[dict]:
        yield record(1)
        yield record(2)
        raise LookupError("escultura sem artista")


def test_a_record_that_cannot_be_made_is_the_error_raised(service: PagefindService) -> None:
    index = service.new_index({})
    outcome: list[BaseException] = []

    def add() -> None:
        try:
            service.add_records(index, Failing())
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=add, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "add_records waited for replies that could never come"
    assert isinstance(outcome[0], LookupError)
    assert "escultura sem artista" in str(outcome[0])
