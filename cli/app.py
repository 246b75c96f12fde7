"""The Typer app. Each command module registers its commands on ``app``.

A TextselError raised anywhere below becomes one line on stderr and exit code 1 (see ``_Group``).
"""

from __future__ import annotations

import importlib
import logging

import click
import typer
from typer.core import TyperGroup

from textsel import __version__
from textsel.errors import TextselError


class _Group(TyperGroup):
    """Turns the library's own errors into click errors: 'Error: ...' and exit code 1."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except TextselError as error:
            # typer >= 0.22 vendors its own click, so a click.ClickException would escape as a traceback.
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from error


app = typer.Typer(
    name="textsel",
    cls=_Group,
    help="Find rare classes in large text collections with few labels and little compute.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules under textsel.cli that define commands; importing one registers its commands on `app`.
COMMAND_MODULES: list[str] = ["project", "round", "label", "demo", "simulate", "svp", "add"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textsel {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


for _name in COMMAND_MODULES:
    importlib.import_module(f"textsel.cli.{_name}")


def main() -> None:
    """Console-script entry point."""
    app()
