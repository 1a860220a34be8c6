"""`python -m storefront <command>`: the same commands as `flask --app storefront`."""

from flask.cli import FlaskGroup

from . import create_app

cli = FlaskGroup(create_app=create_app, help="Sculpture store catalog site.")

if __name__ == "__main__":
    cli(prog_name="python -m storefront")
