"""benchmarks/svp_amazon.py's headline figures: paired error gaps per seed, their spread, and the learned flags."""

from __future__ import annotations

import sys

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
from svp_amazon import summary  # noqa: E402


def seed_results(seed: int, errors: dict[str, float], probe: dict[str, float], *, error_all: float | None,
                 majority: float = 0.10) -> dict:
    """One seed's results as ``run`` fills them (timers and agreement fixed; errors and probe as given)."""
    results = {"seed": seed, "pool_size": 1000, "majority_error": majority, "linear_probe_frozen_minilm": probe,
               "active": {"proxy_selection_seconds": 1.0, "target_selection_seconds": 40.0,
                          "proxy_warmup_seconds": 1.0, "target_warmup_seconds": 10.0, "final_size": 200,
                          "agreement_round1": {"spearman": 0.3, "top_k_overlap": 0.2, "k": 100},
                          "minilm": {name: {"error": value} for name, value in errors.items()}}}
    if error_all is not None:
        results["minilm_all"] = {"error": error_all}
    return results


PROBE = {"proxy_selected": 0.09, "target_selected": 0.09, "random": 0.09, "all": 0.085}


def test_gaps_are_paired_within_each_seed_and_spread_over_seeds() -> None:
    per_seed = [seed_results(0, {"proxy_selected": 0.080, "target_selected": 0.078, "random": 0.085}, PROBE,
                             error_all=0.070),
                seed_results(1, {"proxy_selected": 0.082, "target_selected": 0.078, "random": 0.086}, PROBE,
                             error_all=None)]  # a run cut short before seed 1's whole-pool stage
    result = summary(per_seed, "amazon_multidomain")
    assert [s["gap_proxy_minus_target_selected"] for s in result["per_seed"]] == pytest.approx([0.002, 0.004])
    assert result["gap_proxy_minus_target_selected"] == pytest.approx(0.003)
    assert result["spread"]["gap_proxy_minus_target_selected"]["n"] == 2
    assert result["gap_target_minus_probe_random"] == pytest.approx((0.085 + 0.086) / 2 - 0.09)
    assert result["per_seed"][1]["gap_target_minus_probe_all"] is None
    assert result["spread"]["error_all"] == {"mean": 0.070, "sd": None, "ci95": [None, None], "n": 1}
    assert result["selection_speedup"] == 40.0 and result["selection_speedup_with_warmup"] == 25.0
    assert result["target_beats_majority"] and result["target_beats_probe"]


def test_a_target_at_the_probe_or_majority_error_is_not_called_learned() -> None:
    at_probe = seed_results(0, {"proxy_selected": 0.09, "target_selected": 0.08, "random": 0.085}, PROBE,
                            error_all=0.07)
    result = summary([at_probe], "amazon_multidomain")
    assert result["target_beats_majority"] and not result["target_beats_probe"]
    at_majority = seed_results(0, {"proxy_selected": 0.10, "target_selected": 0.08, "random": 0.085}, PROBE,
                               error_all=0.07)
    assert not summary([at_majority], "amazon_multidomain")["target_beats_majority"]
