"""Candidate rows gathered once (issue 22): a SEALS round reads from the feature matrix only the rows of candidates
it has not seen, in this process or, through the saved rows file, in an earlier one; a changed or damaged file is
rebuilt and the selection stays the same."""

from __future__ import annotations

import numpy as np
from conftest import precomputed_project

from textsel.candidate_rows import CandidateRows, load_candidate_rows, save_candidate_rows
from textsel.project import Project

SOURCE = {"model": "m", "fingerprint": "abc", "dim": 4}


def test_saved_rows_are_appended_and_restored_and_a_damaged_file_is_rebuilt(tmp_path):
    features = np.arange(40, dtype=np.float16).reshape(10, 4)
    rows = CandidateRows()
    rows.extend(np.array([30, 10]), np.array([3, 1]), features)
    path = tmp_path / "rows.f32"
    record = save_candidate_rows(path, rows, None, SOURCE)
    first_bytes = path.read_bytes()
    restored, how = load_candidate_rows(path, record, SOURCE)
    assert how == "restored" and restored.ids_.tolist() == [10, 30]
    restored.extend(np.array([10, 50]), np.array([1, 5]), features)
    assert restored.gathered_ == 1  # 10 was held already
    record = save_candidate_rows(path, restored, record, SOURCE)
    assert path.read_bytes().startswith(first_bytes) and len(record["segments"]) == 2  # appended, not rewritten
    again, how = load_candidate_rows(path, record, SOURCE)
    assert how == "restored" and np.array_equal(again.rows_[again.row_numbers([50, 30])], features[[5, 3]])
    assert load_candidate_rows(path, record, {**SOURCE, "fingerprint": "new"})[1] == "rebuilt: the features changed"
    data = bytearray(path.read_bytes())
    data[5] ^= 0xFF
    path.write_bytes(bytes(data))  # same size, new mtime: the segments' checksums are read
    damaged, how = load_candidate_rows(path, record, SOURCE)
    assert how == "rebuilt: the rows file changed" and len(damaged) == 0


def test_next_in_a_fresh_process_gathers_only_new_candidates(tmp_path):
    n = 300
    texts = [f"text {i} about {'gears' if i % 10 == 0 else 'fabric'}" for i in range(n)]
    folder, _ = precomputed_project(tmp_path, texts, list(range(n)), ["gears", "fabric"], dtype=np.float16)
    config = (folder / "textsel.toml").read_text().replace("k = 100", "k = 8")
    (folder / "textsel.toml").write_text(config)
    with Project(folder) as project:
        project.add_labels(list(range(0, 60, 10)), ["gears", "fabric"] * 3, source="seed")
    selections, gathered = [], []
    for _ in range(3):
        with Project(folder) as project:  # a fresh process per round, as the CLI runs
            before = (project.store.get_meta("candidate_rows") or {}).get("rows", 0)
            _, result = project.next_batch(4, candidate_pool="seals")
            params = project.store.rounds()[-1].params
            held = project.store.get_meta("candidate_rows")["rows"]
            gathered.append(params["candidate_rows_gathered"])
            assert gathered[-1] == held - before < result.candidate_pool_size or before == 0
            selections.append(result.ids.tolist())
            project.add_labels(result.ids.tolist(), ["gears", "fabric"] * 2, source="test")
    assert params["candidate_rows"] == "restored"
    (folder / "cache" / "candidate_rows.f32").unlink()
    with Project(folder) as project:
        _, result = project.next_batch(4, candidate_pool="seals")
        assert project.store.rounds()[-1].params["candidate_rows"] == "rebuilt: a file is missing"


def test_restored_rows_are_scored_in_place_beside_rows_gathered_since(tmp_path):
    """Rows restored from the file stay in it (a read-only memory map) and rows gathered after them are scored with
    them: the probabilities are those of the same rows read from the features, for many ids and for a few."""
    from textsel.learner import LogisticLearner

    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 6)).astype(np.float32)
    learner = LogisticLearner().fit(features[:40], np.arange(40) % 2)
    rows = CandidateRows()
    rows.extend(np.arange(1000, 1120), np.arange(120), features)
    record = save_candidate_rows(tmp_path / "rows.f32", rows, None, SOURCE)
    restored, how = load_candidate_rows(tmp_path / "rows.f32", record, SOURCE)
    assert how == "restored" and isinstance(restored._mapped, np.memmap) and not restored._mapped.flags.writeable
    restored.extend(np.arange(1100, 1180), np.arange(100, 180), features)  # 60 new, 20 held already
    assert restored.gathered_ == 60 and len(restored) == 180 and np.array_equal(restored.rows_, features[:180])
    for asked in (np.arange(1000, 1180, 2), np.array([1170, 1003, 1119, 1120])):  # most rows; a few rows
        expected = learner.predict_proba(features[asked - 1000])
        assert np.allclose(restored.predict_proba(learner, asked), expected, atol=1e-6)
    record = save_candidate_rows(tmp_path / "rows.f32", restored, record, SOURCE)
    again, _ = load_candidate_rows(tmp_path / "rows.f32", record, SOURCE)
    assert record["rows"] == 180 and np.array_equal(again.rows_, features[:180])
