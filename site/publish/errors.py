"""The one error a publish command turns into a clear message and exit status 1."""


class PublishError(Exception):
    """A publish, rollback or listing that cannot go on; the message says why."""
