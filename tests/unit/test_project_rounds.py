"""The rounds part of a project on its own (textsel.project.rounds): arguments checked before any work, no text
selected twice, removed texts never selected, and the SEALS state kept between rounds."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import project_parts

from textsel.candidates import AllCandidates
from textsel.errors import ConfigError, StoreError
from textsel.project.rounds import Rounds, _ExcludingCandidates

TEXTS = [f"review {i} about {'gears' if i % 3 else 'fabric'}" for i in range(40)]


def labeled_parts(tmp_path):  # noqa: ANN201 - parts with six labels
    parts = project_parts(tmp_path / "p", TEXTS)
    parts.labels.add_labels([10, 20, 30, 40, 50, 60], ["fabric", "gears", "gears"] * 2, source="test")
    return parts


def test_bad_arguments_are_refused_before_any_work():
    for n, strategy, pool, learner in [(0, "entropy", "all", "logistic"), (5, "nope", "all", "logistic"),
                                       (5, "entropy", "most", "logistic"), (5, "entropy", "all", "nope")]:
        with pytest.raises(ConfigError):
            Rounds.check_round_params(n, strategy, pool, learner)


def test_a_scan_never_selects_a_text_twice_nor_a_removed_one(tmp_path):
    parts = labeled_parts(tmp_path)
    parts.corpus.remove_documents([70, 80])
    _, first = parts.rounds.next_batch(5, candidate_pool="all")
    with pytest.raises(StoreError, match="still has 5 texts"):
        parts.rounds.next_batch(5, candidate_pool="all")
    _, second = parts.rounds.next_batch(5, candidate_pool="all", discard_pending=True)
    chosen = first.ids.tolist() + second.ids.tolist()
    assert len(set(chosen)) == 10 and not {70, 80} & set(chosen) and not {10, 20, 30, 40, 50, 60} & set(chosen)
    assert parts.store.rounds()[-1].params["excluded_removed"] == 2
    parts.store.close()


def test_seals_rounds_keep_their_candidate_state_in_the_cache_folder(tmp_path):
    parts = labeled_parts(tmp_path)
    parts.rounds.next_batch(4, candidate_pool="seals")
    assert parts.rounds.candidate_state_path(4).exists() and parts.rounds.last_pool_choice.name == "seals"
    parts.labels.add_labels(parts.store.pending()[1], ["gears"] * 4, source="test")
    parts.rounds.next_batch(4, candidate_pool="seals")
    assert parts.store.rounds()[-1].params["candidate_state"] == "restored"
    parts.store.close()


def test_excluding_candidates_drops_removed_and_earlier_selected_documents():
    pool = _ExcludingCandidates(AllCandidates(), excluded=np.array([3]), removed=np.array([5]))
    assert pool.candidates(np.arange(8), np.array([0])).tolist() == [1, 2, 4, 6, 7] and pool.size == 5
