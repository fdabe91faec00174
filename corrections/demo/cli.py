"""`flask demo load`: a fictional county so a newcomer sees a living system."""

import click
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="The demo county.")


@demo_cli.command("load")
def load() -> None:
    """Load the demo county (synthetic people only)."""
    click.echo("not yet")
