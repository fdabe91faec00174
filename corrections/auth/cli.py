"""`flask officers create ...`"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from corrections.auth import services
from corrections.auth.models import ROLES
from corrections.extensions import db

officers_cli = AppGroup("officers", help="Officer accounts.")


@officers_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True, help="At least 8 characters.")
@click.option(
    "--office", "office_code", default=None, help="Office code (required for --role officer)."
)
def create(username: str, role: str, password: str, office_code: str | None) -> None:
    """Create an officer account."""
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    try:
        officer = services.create_officer(username, password, role, office_code)
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"created {officer.role} {officer.username!r}"
        + (f" in {office_code}" if office_code else "")
    )
