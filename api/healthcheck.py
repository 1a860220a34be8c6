"""Container health check without curl: ``python -m api.healthcheck`` (exit 0 = healthy).

ECS ignores a Dockerfile HEALTHCHECK, so the task definition runs this same
command; it needs nothing but the Python that is already in the image.
"""

from __future__ import annotations

import os
import sys
import urllib.request

#: The liveness route (api.health) and the port gunicorn binds in the container.
HEALTH_PATH = "/healthz"
DEFAULT_PORT = 8000


def main() -> int:
    port = os.environ.get("PORT", str(DEFAULT_PORT))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
