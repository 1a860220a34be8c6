"""A server that answers 200 to anything, with JSON that is not the API's (for the hook test)."""

from flask import Flask

app = Flask(__name__)


@app.get("/healthz")
@app.get("/readyz")
@app.get("/api/v1/availability")
def anything():  # type: ignore[no-untyped-def]
    return {"hello": "world"}
