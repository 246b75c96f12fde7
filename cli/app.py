"""The Typer app. Each command module registers its commands on ``app``.

A TextselError raised anywhere below becomes one line on stderr and exit code 1 (see ``_Group``).
"""

from __future__ import annotations

import importlib
import logging

import click
import typer
from typer.core import TyperGroup, TyperOption

from textsel import __version__
from textsel.errors import (
    DataFileMissingError,
    DuplicateIdsError,
    NoConceptsError,
    NotAProjectError,
    NothingToLabelError,
    OutputExistsError,
    PendingBatchError,
    TextselError,
)

# The command that fixes an error, for errors whose library message says only what to do ("create a project
# there first"): the library never names commands or flags, the CLI adds them.
COMMAND_HINTS: dict[type[TextselError], str] = {
    NotAProjectError: "`textsel init DIR --data FILE`",
    NothingToLabelError: "`textsel next`, or `textsel label --continuous` to select as you go",
    NoConceptsError: "`textsel concept add NAME`",
    OutputExistsError: "pass --force to replace it",
    DataFileMissingError: "if it moved: `textsel relink --data NEW_PATH`",
    DuplicateIdsError: "`textsel init ... --dedupe id` keeps the first row of each id, --dedupe text of each text",
    PendingBatchError: "`textsel label` labels them; or pass --discard-pending to drop them (recorded)",
}


def error_line(error: TextselError) -> str:
    """The one line the CLI prints for a library error: its message, plus the command that fixes it if known."""
    hint = next((hint for kind, hint in COMMAND_HINTS.items() if isinstance(error, kind)), None)
    return f"Error: {error}" + (f" ({hint})" if hint else "")


class _Group(TyperGroup):
    """Turns the library's own errors into click errors: 'Error: ...' and exit code 1."""

    def invoke(self, ctx: click.Context):  # noqa: ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except TextselError as error:
            # typer >= 0.22 vendors its own click, so a click.ClickException would escape as a traceback.
            typer.echo(error_line(error), err=True)
            raise typer.Exit(1) from error
        except OSError as error:  # a disk fault no writer turned into a TextselError: still one line, exit 1
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from error


def _flag_without_type(display_type_rich):  # noqa: ANN001, ANN202 - wraps TyperOption.display_type_rich
    """Help shows no type for on/off flags: ``--force`` takes no value, so ``<bool>`` beside it is noise."""

    def display(self, ctx: click.Context) -> str | None:  # noqa: ANN001
        return None if getattr(self, "is_bool_flag", False) else display_type_rich(self, ctx)

    return display


TyperOption.display_type_rich = _flag_without_type(TyperOption.display_type_rich)

EXAMPLES = """Examples:

\b
  textsel demo                                     simulate SEALS on real reviews (no project needed)
  textsel init shop --data reviews.csv --labels broken,fine
  textsel search "zipper broke" -p shop            find the first positives
  textsel next -n 20 -p shop                       select a batch (add --learner fasttext for SVP's proxy)
  textsel label -p shop                            label it key by key (--continuous retrains as you go)
  textsel status -p shop                           positives found, prevalence, a stopping hint
  textsel export labels.csv -p shop
  textsel simulate sms_spam --positive spam --pool seals --pool all --repeats 3 -o runs/

Run `textsel COMMAND --help` for a command's options."""

app = typer.Typer(
    name="textsel",
    cls=_Group,
    help="Find rare classes in large text collections with few labels and little compute.",
    epilog=EXAMPLES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Modules under textsel.cli that define commands; importing one registers its commands on `app`.
COMMAND_MODULES: list[str] = ["project", "round", "label", "audit", "add", "remove", "concept", "demo", "simulate",
                              "svp", "vectors", "relink", "label_studio"]


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
