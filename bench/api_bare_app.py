"""The baseline for bench/api_load.sh: a bare Flask route returning a small constant JSON.

Served by gunicorn with exactly the API's settings (api/gunicorn.conf.py), so
the difference between the two measures what the API itself costs.
"""

from flask import Flask

app = Flask(__name__)
BODY = {"status": "ok"}


@app.get("/bare")
def bare():  # type: ignore[no-untyped-def]
    return BODY
