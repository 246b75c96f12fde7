"""A project's vectors out: ``<name>.npy`` (float32, one row per text in pool order) and ``<name>.ids.txt`` (the id
of each row, one a line, as users know it), so other tools, or ``textsel simulate``, need not embed the pool again.
Both files are checked before anything is read (:func:`textsel.outputs.check_output_file`) and written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from textsel.errors import DataError
from textsel.outputs import check_output_file, output_file


def ids_path(out: str | Path) -> Path:
    """The ids file beside a vectors file: ``vectors.npy`` -> ``vectors.ids.txt``."""
    return Path(out).with_suffix(".ids.txt")


def export_vectors(project, out: str | Path, *, force: bool = False) -> int:  # noqa: ANN001 - textsel.project.Project
    """Write the project's embeddings (every text, removed ones included, in pool order) to ``out`` (.npy) and
    their ids to :func:`ids_path`; return how many rows."""
    out = Path(out)
    if out.suffix.lower() != ".npy":
        raise DataError("vectors are written as a .npy file; name one ending in .npy", file=str(out))
    for path in (out, ids_path(out)):
        check_output_file(path, force=force, project_dir=project.directory)
    vectors = np.asarray(project.embeddings(), dtype=np.float32)
    ids = project.external_ids(project.ids)
    if any("\n" in str(doc_id) or "\r" in str(doc_id) for doc_id in ids):
        raise DataError("an id holds a line break, so the ids cannot be written one per line", file=str(out))
    with output_file(ids_path(out)) as tmp:
        tmp.write_text("".join(f"{doc_id}\n" for doc_id in ids), encoding="utf-8")
    with output_file(out) as tmp, open(tmp, "wb") as handle:
        np.save(handle, vectors)
    return len(ids)


def vectors_by_text(texts: list[str], known_texts: list[str], known_vectors: np.ndarray) -> np.ndarray:
    """Vectors for ``texts`` taken from rows of ``known_vectors`` with the same text (an embedding depends on the
    text alone); a DataError when a text has no vector there."""
    row_of = {text: row for row, text in enumerate(known_texts)}
    rows = [row_of.get(text) for text in texts]
    missing = [position for position, row in enumerate(rows) if row is None]
    if missing:
        raise DataError(f"{len(missing)} of the {len(texts)} texts have no vector in the project (first: row "
                        f"{missing[0] + 1}); the data file differs from the project's")
    return np.asarray(known_vectors[np.asarray(rows, dtype=np.int64)], dtype=np.float32)
