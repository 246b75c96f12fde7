"""Run ASReview LAB's default model (ELAS u4) on one review for benchmarks/screening.py, inside ASReview's own venv.

Not imported by textsel: ``benchmarks/screening.py`` runs it as ``<asreview venv>/bin/python _asreview_worker.py
IN.json OUT.json``. IN.json holds ``texts``, ``labels`` (0/1), ``priors`` ({seed: [record ids]}), ``max_labels``
(None: until every included record is found) and ``stop_recall`` (optional: stop once this share of the included
records is found, e.g. 0.95, so a run that only needs labels to 95% does not screen the rest). OUT.json gets, per
seed, the order in which records were labeled (the priors first), the CPU seconds of the whole simulation and the
number of queries, and ASReview's version and model settings.
"""

from __future__ import annotations

import json
import math
import sys
import time


class RecallStopper:
    """Stop once ``need`` included records are labeled or ``cap`` records in all (ASReview's stopper protocol)."""

    def __init__(self, need: int, cap: int) -> None:
        self.need, self.cap = need, cap

    def stop(self, results, labels) -> bool:  # noqa: ANN001 - ASReview's results frame and label array
        return int(results["label"].sum()) >= self.need or len(results) >= self.cap


def main(in_path: str, out_path: str) -> None:
    import asreview
    import numpy as np
    import pandas as pd
    from asreview.learner import ActiveLearningCycle
    from asreview.models.models import get_ai_config
    from asreview.simulation.simulate import Simulate

    job = json.loads(open(in_path, encoding="utf-8").read())
    records = pd.DataFrame({"title": job["texts"], "abstract": [""] * len(job["texts"])})
    labels = np.asarray(job["labels"], dtype=int)
    config = get_ai_config()  # the default model of this ASReview LAB version: ELAS u4
    out = {"asreview": asreview.__version__, "model": config["name"], "runs": {}}
    need = math.ceil(job.get("stop_recall", 1.0) * labels.sum() - 1e-9)
    cap = job["max_labels"] if job["max_labels"] is not None else len(labels)
    for seed, priors in job["priors"].items():
        cycle = ActiveLearningCycle.from_meta(config["value"])
        simulation = Simulate(records, labels, cycles=[cycle], print_progress=False, stopper=RecallStopper(need, cap))
        simulation.label([int(i) for i in priors])
        cpu = time.process_time()
        simulation.review()
        cpu = time.process_time() - cpu
        order = [int(i) for i in simulation._results["record_id"].tolist()]
        out["runs"][seed] = {"order": order, "cpu_seconds": cpu, "queries": len(order) - len(priors)}
    with open(out_path, "w", encoding="utf-8") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
