"""`flask officers create ...` and `flask officers set-password ...`"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from corrections import clock
from corrections.actors import Actor
from corrections.auth import services
from corrections.auth.models import ROLES, Officer
from corrections.extensions import db

officers_cli = AppGroup("officers", help="Officer accounts.")

PASSWORD_HELP = "At least 10 characters; not the username; not a common password."


@officers_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password", required=True, help=PASSWORD_HELP)
@click.option(
    "--office", "office_code", default=None, help="Office code (required for --role officer)."
)
@click.option("--name", "display_name", default=None, help="The name shown on the pages.")
def create(
    username: str, role: str, password: str, office_code: str | None, display_name: str | None
) -> None:
    """Create an officer account."""
    try:
        officer = services.create_officer(
            username,
            password,
            role,
            office_code,
            display_name=display_name,
            actor=Actor.system(),
            now=clock.now(),
        )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"created {officer.role} {officer.username!r}"
        + (f" in {office_code}" if office_code else "")
    )


@officers_cli.command("set-password")
@click.argument("username")
@click.option("--password", required=True, help=PASSWORD_HELP)
def set_password(username: str, password: str) -> None:
    """Give an account a new password; every session and token of the account ends."""
    officer = db.session.scalar(select(Officer).where(Officer.username == username))
    if officer is None:
        raise click.ClickException(f"no account named {username!r}")
    try:
        ended = services.set_password(officer, password, actor=Actor.system(), now=clock.now())
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(
        f"new password for {username!r}; ended {ended.sessions} session(s) "
        f"and {ended.tokens} token(s)"
    )
