"""The Typer app: the root ``app`` and, in one place (:data:`COMMAND_APPS`), the command modules' own apps.

Each command module defines its commands on a Typer app of its own and registers nothing itself; here they are
added to the root without a name, so their commands stay top-level (``textsel init``, ``textsel next``), or under
one (``textsel concept add``). A TextselError raised anywhere below becomes one line on stderr and exit code 1
(see ``_Group``).
"""

from __future__ import annotations

import logging

import typer
from textsel.cli import (
    add,
    audit,
    concept,
    demo,
    label,
    label_studio,
    model,
    project,
    relink,
    remove,
    report,
    round,
    seed,
    simulate,
    svp,
    vectors,
)
from typer.core import TyperCommand, TyperGroup, TyperOption

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


class _FlagOption(TyperOption):
    """An option whose help shows no type for on/off flags: ``--force`` takes no value, so ``<bool>`` beside it is
    noise."""

    def display_type_rich(self, ctx: typer.Context) -> str | None:
        return None if getattr(self, "is_bool_flag", False) else super().display_type_rich(ctx)


def _without_type(option: TyperOption | None) -> TyperOption | None:
    """``option`` as a :class:`_FlagOption` (a TyperOption of this app's commands; None stays None)."""
    if type(option) is TyperOption:
        option.__class__ = _FlagOption
    return option


class _Command(TyperCommand):
    """A command whose ``--help`` option (made when first asked for) shows no type either."""

    def get_help_option(self, ctx: typer.Context) -> TyperOption | None:
        return _without_type(super().get_help_option(ctx))


class _SubGroup(TyperGroup):
    """A command group (``textsel concept``, ``textsel svp``) whose ``--help`` option shows no type either."""

    def get_help_option(self, ctx: typer.Context) -> TyperOption | None:
        return _without_type(super().get_help_option(ctx))


def _flags_without_type(command: TyperCommand | TyperGroup) -> None:
    """Make the options of ``command`` and of every command below it :class:`_FlagOption`, and the commands
    :class:`_Command` or :class:`_SubGroup`: this app's only, Typer's own classes are left alone."""
    for param in command.params:
        _without_type(param)
    if type(command) is TyperCommand:
        command.__class__ = _Command
    elif type(command) is TyperGroup:
        command.__class__ = _SubGroup
    for sub in getattr(command, "commands", {}).values():
        _flags_without_type(sub)


class _Group(TyperGroup):
    """The root group: turns the library's own errors into click errors ('Error: ...' and exit code 1), and shows
    flags without a value type (:class:`_FlagOption`)."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - TyperGroup's
        super().__init__(*args, **kwargs)
        _flags_without_type(self)

    def get_help_option(self, ctx: typer.Context) -> TyperOption | None:
        return _without_type(super().get_help_option(ctx))

    def invoke(self, ctx: typer.Context):  # noqa: ANN201 - click's signature (typer's vendored click)
        try:
            return super().invoke(ctx)
        except TextselError as error:
            # typer >= 0.22 vendors its own click, so a click.ClickException would escape as a traceback.
            typer.echo(error_line(error), err=True)
            raise typer.Exit(1) from error
        except OSError as error:  # a disk fault no writer turned into a TextselError: still one line, exit 1
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(1) from error


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

# Every command app, in the order `textsel --help` lists them, with its group name (None: its commands are top-level).
COMMAND_APPS: list[tuple[typer.Typer, str | None]] = [
    (project.app, None), (seed.app, None), (report.app, None), (model.app, None), (round.app, None),
    (label.app, None), (audit.app, None), (add.app, None), (remove.app, None), (relink.app, None),
    (vectors.app, None), (demo.app, None), (simulate.app, None), (concept.concept_app, "concept"),
    (svp.svp_app, "svp"), (label_studio.label_studio_app, "studio"),
]


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


for _commands, _group in COMMAND_APPS:
    app.add_typer(_commands, name=_group)


def main() -> None:
    """Console-script entry point."""
    app()
