"""Fit the audit hint's fraction on concepts that benchmarks/stopping.py does not judge.

The hint (``textsel.status.negatives_needed``) tells a user to draw audits once enough active labels in a row were
negative that a positive rate above ``fraction`` x the active yield is unlikely. A larger fraction audits earlier
(fewer active labels, more audits that find a positive and send the user back); a smaller one audits later.

For each fraction in ``--fractions`` this runs stopping.py's certified rule (uniform audits, the CLI's batch of 20,
``--strategy``) on the fit concepts, ``--seeds`` seeds each: data sets or concepts that none of stopping.py's cells
uses, so nothing it reports was tuned on. Per fraction, over every fit run: coverage of the rule-stopped runs, and
the medians of labels / oracle, active / oracle and audit / floor over them (stopping.py's definitions), and the
median labels / oracle over every run, the ones that labeled the whole pool included (``labels_over_oracle_every_run``:
what a user pays; a fraction under which the hint never fires must not look cheap because its runs drop out of the
rule-stopped medians). The chosen fraction has the lowest ``labels_over_oracle_every_run`` among those whose
coverage is 1 on the fit runs; ties go to the larger fraction (earlier audits). Only labels are counted, no timer.

    python benchmarks/stopping_hint_fit.py --seeds 4 --out benchmarks/results/stopping_hint_fit.json
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _results import add_run_options, start_run
from concepts import CONCEPTS, available
from stopping import CLI_BATCH, SMALL_CELLS, load_small, run_certified, run_record, summarise

# not tv_spoilers@3%: its MiniLM order needs ~89% of the pool for 95% recall, so every fraction exhausts the pool
FIT_CONCEPTS = ["blitzer 1-star@3%", "blitzer books@3%", "amazon baby", "amazon magazines"]
FRACTIONS = [0.03, 0.05, 0.1, 0.2, 0.4]
RESULTS = Path(__file__).resolve().parent / "results" / "stopping_hint_fit.json"


def concept_key(name: str) -> tuple:
    """What a concept asks for (data set, column, positive value), whatever its rate or pool cut."""
    concept = CONCEPTS[name]
    return concept.folder, concept.column, concept.positive


def judged_concepts() -> set[tuple]:
    """The concepts of stopping.py's small cells, which a fit concept must not be."""
    return {concept_key(name) for name, _ in SMALL_CELLS}


def choose(per_fraction: dict[float, dict]) -> float:
    """The fraction with the lowest ``labels_over_oracle_every_run`` among those that covered every rule-stopped fit
    run (larger wins a tie); if none did, the one with the best coverage."""
    covered = {f: row for f, row in per_fraction.items() if row["coverage"] == 1.0}
    if not covered:
        return max(per_fraction, key=lambda f: (per_fraction[f]["coverage"] or 0.0, f))
    return min(covered, key=lambda f: (covered[f]["labels_over_oracle_every_run"], -f))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--fractions", default=",".join(str(f) for f in FRACTIONS))
    parser.add_argument("--concepts", default=",".join(FIT_CONCEPTS))
    parser.add_argument("--strategy", default="most-likely-positive")
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = add_run_options(parser).parse_args()
    if not available():
        sys.exit("the shared data sets are not present (../shared/data)")
    concepts = [name for name in args.concepts.split(",") if name]
    fractions = [float(f) for f in args.fractions.split(",") if f]
    overlap = [name for name in concepts if concept_key(name) in judged_concepts()]
    if overlap:
        sys.exit(f"fit concepts must not be judged by stopping.py: {', '.join(overlap)}")
    run = start_run(args)
    seeds = list(range(args.seeds))
    records: dict[float, list[dict]] = {f: [] for f in fractions}
    pools = [load_small(name) for name in concepts]
    for pool in pools:
        total = int(pool.is_positive.sum())
        for fraction in fractions:
            for seed in seeds:
                outcome = run_certified(pool, args.strategy, seed, design="uniform", batch=CLI_BATCH,
                                        target=args.target_recall, confidence=args.confidence, budget=1.0,
                                        hint_fraction=fraction)
                record = {"concept": pool.name, "seed": seed,
                          **run_record(outcome, len(pool.ids), total, args.target_recall, args.confidence)}
                records[fraction].append(record)
                print({"fraction": fraction, **record}, file=sys.stderr, flush=True)
    per_fraction = {f: summarise(rows, args.target_recall, args.confidence) for f, rows in records.items()}
    chosen = choose(per_fraction)
    payload = {"benchmark": "stopping_hint_fit", "strategy": args.strategy, "batch": CLI_BATCH,
               "target_recall": args.target_recall, "confidence": args.confidence, "concepts": concepts,
               "pools": [{"concept": p.name, "pool_size": len(p.ids), "positives": int(p.is_positive.sum())}
                         for p in pools],
               "chosen_fraction": chosen,
               "fractions": [{"fraction": f, **row} for f, row in per_fraction.items()]}
    run.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
