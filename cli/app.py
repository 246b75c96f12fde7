"""The Typer app: the root app and, in one place (:data:`COMMAND_MODULES`), the command modules' own apps.

Each command module defines its commands on a Typer app of its own and registers nothing itself; here they are
added to the root without a name, so their commands stay top-level (``textsel init``, ``textsel next``), or under
one (``textsel concept add``). A TextselError raised anywhere below becomes one line on stderr and exit code 1
(see ``_Group``).

A command run from the shell (:func:`main`) gets a root holding only the module that defines it
(:data:`COMMAND_MODULE`): Typer inspects every registered command's signature at each start, so importing and
inspecting sixteen modules to run one command cost about a tenth of a second, a fifth of the half second `next` may
take. Help, ``--version`` and unknown names get the whole app (``app``, built when first used).
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Sequence

import typer
from typer.core import TyperGroup

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
    """The root group: turns the library's own errors into click errors ('Error: ...' and exit code 1)."""

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

# Every command module, in the order `textsel --help` lists them: (module, its Typer app, group name or None for
# top-level commands).
COMMAND_MODULES: list[tuple[str, str, str | None]] = [
    ("project", "app", None), ("seed", "app", None), ("report", "app", None), ("model", "app", None),
    ("round", "app", None), ("label", "app", None), ("audit", "app", None), ("add", "app", None),
    ("remove", "app", None), ("relink", "app", None), ("vectors", "app", None), ("demo", "app", None),
    ("simulate", "app", None), ("concept", "concept_app", "concept"), ("svp", "svp_app", "svp"),
    ("label_studio", "label_studio_app", "studio"),
]

# The module of each top-level command and group, so :func:`main` loads one module (tests/cli/test_cli_help.py
# checks this against the commands each module defines).
COMMAND_MODULE: dict[str, str] = {
    "init": "project", "embed": "project", "index": "project", "search": "seed", "import": "seed",
    "status": "report", "diagnose": "report", "export": "report", "train": "model", "predict": "model",
    "next": "round", "label": "label", "audit": "audit", "add": "add", "remove": "remove", "relink": "relink",
    "vectors": "vectors", "demo": "demo", "simulate": "simulate", "concept": "concept", "svp": "svp",
    "studio": "label_studio",
}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"textsel {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details."),
) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


def command_apps(modules: Sequence[tuple[str, str, str | None]] = tuple(COMMAND_MODULES)
                 ) -> list[tuple[typer.Typer, str | None]]:
    """The Typer app and group name of each of ``modules`` (entries of :data:`COMMAND_MODULES`), imported now."""
    return [(getattr(importlib.import_module(f"textsel.cli.{module}"), attribute), group)
            for module, attribute, group in modules]


def build_app(modules: Sequence[tuple[str, str, str | None]] = tuple(COMMAND_MODULES)) -> typer.Typer:
    """The root app with the commands of ``modules`` (default: every command module)."""
    root = typer.Typer(
        name="textsel",
        cls=_Group,
        help="Find rare classes in large text collections with few labels and little compute.",
        epilog=EXAMPLES,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    root.callback()(_root)
    for commands, group in command_apps(modules):
        root.add_typer(commands, name=group)
    return root


def app_for(args: Sequence[str]) -> typer.Typer:
    """The root app for a command line: only the module of the command ``args`` starts with, or every module when
    they start with an option or a name no module defines (help and errors then list every command)."""
    module = COMMAND_MODULE.get(args[0]) if args else None
    if module is None:
        return build_app()
    return build_app([entry for entry in COMMAND_MODULES if entry[0] == module])


def __getattr__(name: str) -> typer.Typer:
    """``app``: the root app with every command (for tests and embedding), built when first imported."""
    if name == "app":
        globals()["app"] = built = build_app()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Console-script entry point: the root app for this command line (:func:`app_for`)."""
    app_for(sys.argv[1:])()
