"""The real API plus one slow route, for the graceful-shutdown test (gunicorn imports it).

``GET /_test/slow?seconds=N`` sleeps, then reports whether the process had
begun shutting down by the time it finished, which is what /readyz answers.
"""

import time

from flask import jsonify, request

from api import create_app
from api.health import shutting_down

app = create_app()


@app.get("/_test/slow")
def slow():  # type: ignore[no-untyped-def]
    time.sleep(float(request.args.get("seconds", "2")))
    return jsonify(shutting_down=shutting_down())
