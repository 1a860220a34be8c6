"""WSGI entry point for gunicorn: ``gunicorn -c api/gunicorn.conf.py api.wsgi:app``."""

from api import create_app

app = create_app()
