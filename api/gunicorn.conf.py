"""gunicorn settings for the availability API (``gunicorn -c api/gunicorn.conf.py api.wsgi:app``).

Every number can be overridden from the environment, so one image serves a
laptop, CI and an ECS task of any size. Defaults suit a small ECS task.
"""

import mmap
import os
import signal
import time


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


# Listen on every interface of the container; the NLB forwards to port 8000.
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")

# Processes: parallelism across cores (and isolation: one crash loses one worker).
workers = _int("GUNICORN_WORKERS", 2)
# Threads per process: requests mostly wait on the store, so threads overlap that wait.
threads = _int("GUNICORN_THREADS", 4)
worker_class = "gthread"

# On SIGTERM a worker stops accepting and finishes in-flight requests for up to
# this long before it is killed. Terraform matches the NLB deregistration delay
# (and ECS stopTimeout) to it.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# After SIGTERM, /readyz fails at once but the node keeps accepting for this
# long, so the load balancer's health checks take it out of rotation before it
# stops listening; only then does the graceful shutdown above begin. Without it,
# the balancer keeps sending new connections to a closed port until its checks
# catch up (interval x unhealthy threshold), and each one is reset. Terraform
# sets it from the target group's health check; 0 (the default) stops at once.
drain_seconds = _seconds("GUNICORN_DRAIN_SECONDS", 0)
# One byte shared by the arbiter and every worker it forks (an anonymous shared
# mapping, made before the fork): the arbiter sets it when the drain begins, and
# every worker's /readyz reads it.
draining = mmap.mmap(-1, 1)
# A request that takes longer than this is stuck: the worker is replaced.
timeout = _int("GUNICORN_TIMEOUT", 30)
# Idle keep-alive connections must outlive the load balancer's idle timeout
# (an NLB TCP flow times out after 350 s), otherwise the server may close a
# connection just as the peer sends a request on it, which surfaces as a 5xx.
keepalive = _int("GUNICORN_KEEPALIVE", 360)
# Kept-alive connections are parked in the poller, not in a thread, so many are cheap.
worker_connections = _int("GUNICORN_WORKER_CONNECTIONS", 1000)

# No request-line limit of gunicorn's own (0 = its 1 MiB hard cap): gunicorn would
# answer an over-long URL with an HTML page, the app answers it with a 414
# problem instead. In production CloudFront already caps URLs at 8 KiB.
limit_request_line = 0

# Heartbeat files on tmpfs: /dev/shm is in memory and writable with --read-only.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# gunicorn 27 opens a control socket in $HOME by default; the root filesystem is
# read-only in the container and nothing uses the socket.
control_socket_disable = True

# Logs: the app writes one JSON access line (with metrics) per request, so
# gunicorn's own access log is off; its error log goes to stdout as JSON too.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "api.logs.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        }
    },
    # Anything else that logs (botocore, ...) goes out as JSON too.
    "root": {"handlers": ["stdout"], "level": "WARNING"},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
}
# Behind the NLB (TCP) the peer is the client itself; trust no forwarding headers.
forwarded_allow_ips = ""


def when_ready(server):
    """Drain before the graceful shutdown: a SIGTERM first fails readiness everywhere."""
    if drain_seconds > 0:
        server.handle_term = _draining_then(server.handle_term, server)
    else:
        server.handle_term = _flagged_then(server.handle_term)
    server.handle_int = _flagged_then(server.handle_int)
    server.handle_quit = _flagged_then(server.handle_quit)


def _flagged_then(stop):
    """Set the shared flag before the arbiter signals its workers: a worker forked just
    before, still without its own handlers, loses that signal, and reads the flag instead
    (post_worker_init)."""

    def handle():
        draining[0] = 1
        stop()

    return handle


def _draining_then(stop, server):
    def handle_term():
        draining[0] = 1
        server.log.info(
            "shutdown begun: readiness now fails; serving for %g s more, then stopping",
            drain_seconds,
        )
        # SIGINT or SIGQUIT (an operator's "now") cut the drain short.
        cut = []
        previous = {
            signum: signal.signal(signum, lambda number, _frame: cut.append(number))
            for signum in (signal.SIGINT, signal.SIGQUIT)
        }
        try:
            deadline = time.monotonic() + drain_seconds
            while time.monotonic() < deadline and not cut:
                server.murder_workers()  # the arbiter's duty while it waits: hung workers
                time.sleep(0.1)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if cut:
            server.handle_quit()  # stops the workers at once (raises StopIteration)
        stop()

    return handle_term


def post_worker_init(worker):
    """Fail readiness first on SIGTERM, before the worker stops accepting."""
    from api.health import install_shutdown_hook

    install_shutdown_hook(draining)
    if draining[0]:  # the arbiter began stopping while this worker was starting
        worker.alive = False
