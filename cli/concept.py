"""`textsel concept ...`: several yes/no concepts in one project, each selected and trained on its own, labeled in
one pass (textsel.concepts)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from textsel.cli._common import ProjectDir, Quiet, console, open_project
from textsel.cli._display import safe

concept_app = typer.Typer(help="Several yes/no concepts in one project, labeled in one pass.\n\nAdd, seed and select "
                               "per concept, label every concept of a text at once, export one column per concept.",
                          no_args_is_help=True)


@concept_app.command("add")
def add(
    names: Annotated[list[str], typer.Argument(help="Concept names (letters, digits, _ and -).")],
    project_dir: ProjectDir = Path("."),
) -> None:
    """Add concepts to the project. Example: textsel concept add spoiler violence -p reviews/"""
    from textsel.concepts import add_concept

    with open_project(project_dir) as project, project.lock():
        for name in names:
            add_concept(project, name)
    console.print(f"Added {len(names)} concept{'s' if len(names) > 1 else ''}: {safe(', '.join(names))}.")


@concept_app.command("seed")
def seed(
    name: Annotated[str, typer.Argument(help="The concept.")],
    ids: Annotated[str | None, typer.Option("--ids", help="Comma-separated ids (e.g. from `textsel search`).")]
    = None,
    answer: Annotated[str, typer.Option("--label", "-l", help="yes or no.")] = "yes",
    from_project: Annotated[str | None, typer.Option(
        "--from-project", help="Seed from the project's own labels instead: texts labeled this class are yes, "
                               "texts labeled any other class no.")] = None,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Label texts yes or no for one concept. Examples: textsel concept seed spoiler --ids 17,204 --label yes;
    textsel concept seed spoiler --from-project spoiler (reuse the project's labels of the same question)"""
    from textsel.cli.label import print_relabels, split_ids

    from textsel.concepts import concept_project

    if (ids is None) == (from_project is None):
        raise typer.BadParameter("give --ids (with --label) or --from-project, one of the two")
    if from_project is not None:
        from textsel.concept_scope import seed_from_project

        with open_project(project_dir) as project, project.lock():
            yes, no = seed_from_project(project, name, from_project)
        console.print(f"Seeded {safe(name)} from the project's labels: {yes} yes, {no} no.", highlight=False)
        return
    with open_project(project_dir) as project:
        view = concept_project(project, name)
        try:
            doc_ids = split_ids(ids)
            replaced = view.add_labels(doc_ids, [answer] * len(doc_ids), source="cli")
        finally:
            view.store.close()
    console.print(f"Labeled {len(doc_ids)} texts {safe(answer)} for {safe(name)}.")
    print_relabels(replaced)


@concept_app.command("next")
def next_batches(
    n: Annotated[int, typer.Option("--n", "-n", help="Texts to select per concept.")] = 10,
    strategy: Annotated[str, typer.Option("--strategy", "-s", help="Selection strategy (as for `textsel next`).")]
    = "entropy",
    pool: Annotated[str, typer.Option("--pool", help="Candidate pool: auto, seals or all.")] = "auto",
    seed: Annotated[int, typer.Option("--seed", help="Seed for random choices.")] = 0,
    project_dir: ProjectDir = Path("."),
    quiet: Quiet = False,
) -> None:
    """Select a batch for every concept on its own labels (a concept with texts still to label keeps them).

    Example: textsel concept next -n 10 -p reviews/
    """
    from textsel.concept_scope import concept_scope
    from textsel.concepts import concept_names

    with open_project(project_dir, quiet=quiet) as project, project.lock():
        table = Table("concept", "round", "texts to label", "labels so far")
        for name in concept_names(project):
            with concept_scope(project, name) as view:  # an error names the concept
                round_id, pending = view.store.pending()
                if not pending:
                    round_id, result = view.next_batch(n=n, strategy=strategy, candidate_pool=pool, seed=seed)
                    pending = result.ids.tolist()
                table.add_row(safe(name), str(round_id), str(len(pending)), str(len(view.store.current_labels())))
    console.print(table)
    console.print("Label them in one pass with `textsel concept label`.")


@concept_app.command("label")
def label(project_dir: ProjectDir = Path(".")) -> None:
    """Label every concept's pending texts in one pass: 1-9 toggle concepts, a accepts (yes for the toggled, no
    for the rest), s skips, u undoes, q quits. Example: textsel concept label -p reviews/"""
    from textsel.cli.label import Quit, key_mode, next_key, show_text

    from textsel.concepts import ConceptSession
    from textsel.errors import TextselError

    with open_project(project_dir) as project, project.lock(), key_mode():
        session = ConceptSession(project)
        try:
            if session.current is None:
                console.print("Nothing to label: select texts with `textsel concept next`.")
                return
            drawn = None
            while session.current is not None:
                doc_id = session.current
                if doc_id != drawn:  # a toggle redraws only the concepts line
                    console.rule(f"{len(session.queue)} left · id {safe(project.external_ids([doc_id])[0])}")
                    show_text(project.texts([doc_id])[0])
                    drawn = doc_id
                marks = "  ".join(f"{key}=[{'x' if concept in session.toggled else ' '}] {concept}"  # names: [\w-]
                                  for key, concept in session.keys.items())
                console.print(f"{marks}   a=accept  s=skip  u=undo  q=quit", markup=False, highlight=False)
                try:
                    done = session.press(next_key("q"), doc_id)
                except TextselError as error:
                    console.print(f"[yellow]{safe(error)}[/yellow]")
                    continue
                if done is not None:
                    drawn = None
                    what = "skipped" if done.skipped else (f"yes: {safe(', '.join(sorted(done.yes)))}"
                                                           if done.yes else "no to every concept")
                    console.print(f"id {safe(project.external_ids([done.doc_id])[0])}: {what}.", highlight=False)
            console.print("Every selected text is labeled. Select more with `textsel concept next`.")
        except Quit:
            console.print("Stopped; every answer so far is saved. Run `textsel concept label` to resume.")
        finally:
            session.close()


@concept_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="File (.csv, .jsonl, .json) or new folder (hf), outside the project.")],
    export_format: Annotated[str | None, typer.Option("--format", "-f", help="csv, jsonl, hf or label-studio.")]
    = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    project_dir: ProjectDir = Path("."),
) -> None:
    """Write every text labeled for any concept with one yes/no column per concept.

    Example: textsel concept export concepts.csv -p reviews/
    """
    from textsel.concepts import export_concepts

    with open_project(project_dir) as project:
        count = export_concepts(project, out, format=export_format, force=force)
    console.print(f"Wrote {count} texts to {safe(out)}.", highlight=False)
