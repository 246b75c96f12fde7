"""The shape of textsel.project (issue 20): small parts, imports only from parts upstream in the data flow, and a
Project that serves each part's public methods unchanged."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import precomputed_project

import textsel.project
from textsel.project import Project
from textsel.project.corpus import Corpus
from textsel.project.facade import _Part
from textsel.project.labels import Labels
from textsel.project.model import Model
from textsel.project.rounds import Rounds
from textsel.project.vectors import Vectors

PACKAGE = Path(textsel.project.__file__).parent
ORDER = ["types", "corpus", "vectors", "labels", "model", "rounds", "facade", "create", "__init__"]


def test_no_module_over_500_lines_and_no_class_over_400():
    for path in PACKAGE.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert len(source.splitlines()) <= 500, path.name
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 400, f"{path.name}: {node.name}"


def test_parts_import_only_parts_upstream_of_them():
    assert {path.stem for path in PACKAGE.glob("*.py")} == set(ORDER)
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textsel.project."):
                target = node.module.split(".")[2]
                assert ORDER.index(target) < ORDER.index(path.stem), f"{path.name} imports {node.module}"


def test_project_serves_each_parts_methods_and_attributes(tmp_path):
    folder, _ = precomputed_project(tmp_path, [f"text {i}" for i in range(6)], list(range(6)), ["a", "b"])
    served = {name: entry for name, entry in vars(Project).items() if isinstance(entry, _Part)}
    assert {entry.owner for entry in served.values()} == {Corpus, Vectors, Labels, Model, Rounds}
    with Project(folder) as project:
        for name, entry in served.items():
            got, expected = getattr(project, name), getattr(getattr(project, entry.part), entry.name)
            assert got is expected or got == expected, name  # a bound method or a Path is made per access
        assert project.texts([3]) == ["text 3"] and project.pool is project.corpus.pool  # loaded: a plain attribute
        assert "pool" in project.__dict__
    assert Project.embeddings is Vectors.embeddings and Project.next_batch is Rounds.next_batch
