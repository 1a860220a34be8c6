"""The events a rehearsal replays: what GitHub would send each deploy workflow."""

from __future__ import annotations

from workflows.rehearsal import Event

PULL_REQUEST = 7


def pull_request(action: str, repository: str) -> Event:
    """A pull request from a branch of ``repository`` (a fork when it is another one)."""
    return Event(
        "pull_request",
        {
            "action": action,
            "number": PULL_REQUEST,
            "pull_request": {
                "number": PULL_REQUEST,
                "head": {"sha": "0" * 40, "repo": {"full_name": repository}},
                "merged": action == "closed",
            },
        },
        ref=f"refs/pull/{PULL_REQUEST}/merge",
    )


#: Name -> (workflow file, event), in the order a first day in production would see them.
def scenarios(repository: str) -> dict[str, tuple[str, Event]]:
    return {
        "deploy-site push": ("deploy-site.yml", Event("push", {"ref": "refs/heads/main"})),
        "deploy-site rollback": (
            "deploy-site.yml",
            Event("workflow_dispatch", {"inputs": {"action": "rollback", "release": ""}}),
        ),
        "deploy-api push": ("deploy-api.yml", Event("push", {"ref": "refs/heads/main"})),
        "preview opened": ("preview.yml", pull_request("opened", repository)),
        "preview closed": ("preview.yml", pull_request("closed", repository)),
    }
