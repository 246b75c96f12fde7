"""The labels part of a project on its own (textsel.project.labels): labels checked before they are written,
relabels reported, imports, audit samples and keyword search."""

from __future__ import annotations

import pytest
from conftest import project_parts

from textsel.errors import DataError, StoreError

TEXTS = [f"review {i} about {'gears' if i % 3 else 'fabric'}" for i in range(15)]


def test_labels_are_checked_whole_before_anything_is_written_and_relabels_are_reported(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    with pytest.raises(DataError, match="unknown label 'wool'"):
        parts.labels.add_labels([10, 20], ["gears", "wool"], source="test")
    with pytest.raises(DataError):
        parts.labels.add_labels([10, 999], ["gears", "fabric"], source="test")
    assert parts.store.current_labels() == {}
    assert parts.labels.add_labels([10, 20], ["gears", "fabric"], source="test") == []
    relabels = parts.labels.add_labels(["20"], ["gears"], source="test")
    assert [(r.doc_id, r.old, r.new) for r in relabels] == [(20, "fabric", "gears")]
    doc_ids, labels = parts.labels.labeled()
    assert dict(zip(doc_ids.tolist(), labels.tolist(), strict=True)) == {10: "gears", 20: "gears"}
    parts.store.close()


def test_an_import_reads_the_file_whole_and_records_its_labels(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    (tmp_path / "labels.csv").write_text("id,label\n30,fabric\n40,gears\n")
    report = parts.labels.import_labels(tmp_path / "labels.csv")
    assert report.imported == 2 and parts.store.current_labels() == {30: "fabric", 40: "gears"}
    parts.store.close()


def test_audits_draw_only_unlabeled_texts_not_removed_and_wait_for_a_pending_round(tmp_path):
    parts = project_parts(tmp_path / "p", TEXTS)
    parts.labels.add_labels([10, 20], ["gears", "fabric"], source="test")
    parts.corpus.remove_documents([30])
    round_id, chosen = parts.labels.audit_batch(20, seed=3)
    assert set(chosen.tolist()) == {10 * (i + 1) for i in range(15)} - {10, 20, 30}
    assert parts.store.rounds()[-1].strategy == "audit" and round_id == parts.store.rounds()[-1].round_id
    with pytest.raises(StoreError, match="still has"):
        parts.labels.audit_batch(2, seed=4)
    parts.store.close()


def test_keyword_search_counts_matches_and_leaves_removed_texts_out(tmp_path):
    parts = project_parts(tmp_path / "p", ["gears gears", "fabric", "gears", "GEARS and gears"])
    parts.corpus.remove_documents([30])
    hits, total = parts.labels.find_texts("gears", n=5)
    assert [(hit.doc_id, hit.score) for hit in hits] == [(10, 2.0), (40, 2.0)] and total == 2
    with pytest.raises(DataError, match="not a valid regular expression"):
        parts.labels.find_texts("(", regex=True)
    parts.store.close()
