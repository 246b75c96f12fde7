"""Does a certified stop reach its target recall as often as promised, and what does it cost against its floor?

Each run is one simulated project (a cell = a concept at a prevalence, x a strategy x a seed), through the library
path the CLI uses (``RoundEngine``, the logistic learner, every unlabeled text as candidates, the CLI's batch of 20):

1. Seed: 5 positives + 95 negatives from the oracle labels (as ``textsel simulate`` does).
2. Active rounds until ``textsel status``'s audit hint fires (``textsel.status.negatives_needed``: enough negatives in
   a row that a yield above ``--hint-fraction`` (``textsel.status.HINT_FRACTION``, 5%, fitted by
   ``stopping_hint_fit.py`` on other concepts) of the yield so far is unlikely), counted in labels, not rounds.
3. Audits of one batch each, drawn from the unlabeled texts (``--designs``: ``uniform``, the default and the
   cheapest certificate of an empty remainder; ``stratified``, ``textsel.audit_sampling``'s score-stratified
   design with its exact bound), until the certificate says stop (``textsel.estimate.stopping_test`` or
   ``textsel.stratified.stratified_stopping_test``). An audit batch that finds a positive sends the run back to
   active rounds (the hint must fire afresh) and the audits go on after it.
4. The run stops by the rule, because the pool is exhausted (every text labeled), or at the budget
   (``--budget`` x the pool). Exhausted and budget runs are counted apart, never as successes.

Per run: recall at the stop; labels at the stop over the oracle (the labels the run's own order needed to reach the
target recall); active labels (seed + active rounds) over the oracle; audit labels over the floor
(``textsel.estimate.audit_floor`` at the stop: the fewest all-negative uniform audit labels that could certify the
target there, about ``N ln(1/alpha) / K_r``); and ``clean_audit_labels`` over the oracle (``clean_audit_labels``:
the active labels after which a floor-sized audit would find no positive with probability >= 1/2; beyond 1.25x the
oracle, the two 1.25 bars conflict on that order). Baselines from the same label sequences (the uniform run's):
Cormack & Grossman's knee method and N negatives in a row (50, 100) (``stopping_baselines.py``); and the previous
rule of this benchmark (``old-rule``: the old hint, 3 rounds under 2% positives, then audits of 200 uniform texts
with an active round between them, Callaghan & Mueller-Hansen's test), which shares the run's seed and active
sequence up to its own hint.

Cells: small pools from the shared MiniLM sets (5k-15k texts), and, with ``--large``, pools of >= 100k sentences:
prefixes of ``review_sentences`` (no vectors there: hashing TF-IDF reduced to 128 dimensions by truncated SVD,
a cheap stated substitute for an embedding), the sentence-level concept "from a toys_games review", positives
thinned to each prevalence. Per cell the JSON line reports ``coverage`` (share of rule-stopped runs at or above the
target recall) with ``coverage_wilson_low``, ``labels_over_oracle``, ``audit_over_floor``,
``active_over_oracle`` (medians), ``exhausted_runs``, ``budget_runs``; the summary: ``worst_coverage_wilson_low``
and, per prevalence for pools >= 100k, the medians.

    python benchmarks/stopping.py --seeds 20 --large                # the full validation (hours on a quiet CPU)
    python benchmarks/stopping.py --seeds 3 --cells small --strategies most-likely-positive   # a quick look
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _results import add_run_options, start_run
from concepts import DATA, available, load_concept
from scipy.stats import binomtest, hypergeom
from stopping_baselines import knee_stop, negatives_in_a_row_stop

from textsel.audit_sampling import draw_audit
from textsel.candidates import make_candidate_pool
from textsel.errors import PoolExhaustedError
from textsel.estimate import AuditDraw, audit_floor, remaining_at_target, stopping_test
from textsel.learner import make_learner
from textsel.rounds import RoundEngine
from textsel.simulate import draw_seed
from textsel.status import HINT_FRACTION, negatives_needed
from textsel.stratified import StratifiedAudit, StratumSample, stratified_stopping_test

RESULTS = Path(__file__).resolve().parent / "results" / "stopping.json"
SMALL_CELLS = [("amazon automotive@0.5%", 0.005), ("amazon cell_phones_service@1%", 0.01), ("hotel_tips@3%", 0.03),
               ("hotel_tips@5%", 0.05)]
LARGE_RATES = [0.005, 0.01, 0.03, 0.05]
LARGE_CONCEPT = "toys_games"
CLI_BATCH = 20  # `textsel next --n` default
SEED_POSITIVES, SEED_NEGATIVES = 5, 95


@dataclass
class Pool:
    name: str
    ids: np.ndarray
    features: np.ndarray
    is_positive: np.ndarray
    large: bool

    @property
    def prevalence(self) -> float:
        return float(self.is_positive.mean())


def load_small(name: str) -> Pool:
    data = load_concept(name)
    return Pool(name, data.ids, data.embeddings, data.is_positive.astype(bool), False)


def load_large(rate: float, size: int, seed: int = 0) -> Pool:
    """A prefix of review_sentences with about ``size`` texts after thinning "from a toys_games review" to
    ``rate``; features: hashing TF-IDF -> truncated SVD (128), unit rows."""
    import pyarrow.parquet as pq
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    table = pq.read_table(DATA / "review_sentences" / "data.parquet", columns=["text", "domain"])
    domain = np.asarray(table.column("domain").to_pylist(), dtype=object)
    is_positive = domain == LARGE_CONCEPT
    negatives_needed_ = int(size * (1 - rate))
    prefix = int(np.searchsorted(np.cumsum(~is_positive), negatives_needed_)) + 1
    rows = np.arange(prefix)
    rng = np.random.default_rng(seed)
    positives, negatives = rows[is_positive[:prefix]], rows[~is_positive[:prefix]]
    keep = rng.choice(positives, min(len(positives), round(rate * len(negatives) / (1 - rate))), replace=False)
    rows = np.sort(np.concatenate([negatives, keep]))
    texts = table.column("text").take(rows).to_pylist()
    counts = HashingVectorizer(n_features=2**18, alternate_sign=False, ngram_range=(1, 2)).transform(texts)
    reduced = TruncatedSVD(128, n_iter=4, random_state=seed).fit_transform(TfidfTransformer().fit_transform(counts))
    reduced /= np.maximum(np.linalg.norm(reduced, axis=1, keepdims=True), 1e-12)
    return Pool(f"review_sentences {LARGE_CONCEPT}@{rate:.1%} ({len(rows):,})", rows.astype(np.int64),
                reduced.astype(np.float32), is_positive[rows], True)


@dataclass
class Run:
    outcomes: list[bool]  # every label in order: seed, active, audits
    audited: list[bool]  # per label in ``outcomes``: drawn by an audit
    active_labels: int  # seed + active rounds
    audit_labels: int
    found: int
    reason: str  # rule, exhausted, budget
    floor: int | None


class Simulation:
    """One project: oracle, labeled mask, the engine, and the outcomes in order."""

    def __init__(self, pool: Pool, strategy: str, seed: int, batch: int, hint_fraction: float = HINT_FRACTION) -> None:
        self.pool, self.batch, self.seed, self.hint_fraction = pool, batch, seed, hint_fraction
        self.rng = np.random.default_rng(seed)
        self.position = {doc_id: i for i, doc_id in enumerate(pool.ids.tolist())}
        self.labeled = np.zeros(len(pool.ids), dtype=bool)
        self.labels: dict[int, int] = {}
        self.outcomes: list[bool] = []
        self.audited: list[bool] = []
        self.active: list[bool] = []
        self.found = 0
        self.last_active_positive = -1  # index in ``active`` (kept as counts: the loop must not rescan the lists)
        self.active_found = 0
        self.audit_labels = 0
        self.engine = RoundEngine(pool.ids, make_candidate_pool("all"), features=pool.features, strategy=strategy,
                                  learner=make_learner("logistic"), batch_size=batch, positive_label=1,
                                  classes=[0, 1], seed=seed)
        seed_ids = draw_seed(pool.is_positive.astype(np.int64), pool.ids, 1, SEED_POSITIVES, SEED_NEGATIVES, self.rng)
        self.label(seed_ids.tolist())

    def unlabeled(self) -> np.ndarray:
        return self.pool.ids[~self.labeled]

    def label(self, doc_ids: list[int], *, active: bool = False, audit: bool = False) -> int:
        positions = [self.position[doc_id] for doc_id in doc_ids]
        self.labeled[positions] = True
        values = self.pool.is_positive[positions]
        self.labels.update(zip(doc_ids, values.astype(int).tolist(), strict=True))
        self.outcomes += values.tolist()
        self.audited += [audit] * len(doc_ids)
        self.audit_labels += len(doc_ids) if audit else 0
        self.found += int(values.sum())
        if active:
            for value in values.tolist():
                self.active.append(value)
                if value:
                    self.last_active_positive = len(self.active) - 1
                    self.active_found += 1
        return int(values.sum())

    def result(self, reason: str, floor: int | None) -> Run:
        return Run(self.outcomes, self.audited, len(self.outcomes) - self.audit_labels, self.audit_labels, self.found,
                   reason, floor)

    def hint_fires(self, since: int) -> bool:
        return _hint(self.last_active_positive, self.active_found, len(self.active), since, self.hint_fraction)

    def active_round(self) -> bool:
        try:
            chosen = self.engine.select_batch(self.labels).ids.tolist()
        except PoolExhaustedError:
            return False
        self.label(chosen, active=True)
        return bool(chosen)

    def scores(self, doc_ids: np.ndarray) -> np.ndarray:
        rows = [self.position[doc_id] for doc_id in self.labels]
        learner = make_learner("logistic").fit(self.pool.features[rows], np.asarray(list(self.labels.values())))
        column = list(learner.classes_).index(1)
        return learner.predict_proba(self.pool.features[[self.position[d] for d in doc_ids.tolist()]])[:, column]


def hint_fires(active: list[bool], since: int, fraction: float = HINT_FRACTION) -> bool:
    """The audit hint of `textsel status`, counting only negatives after ``since`` (a return from the audits)."""
    positives = [i for i, outcome in enumerate(active) if outcome]
    return _hint(positives[-1] if positives else -1, len(positives), len(active), since, fraction)


def _hint(last: int, found: int, length: int, since: int, fraction: float) -> bool:
    """``last``: index of the last active positive (-1: none); ``found``: active positives (all up to ``last``)."""
    if last < 0:
        return False
    run = length - 1 - max(last, since - 1)
    return run >= negatives_needed(found / (last + 1), fraction)


def run_certified(pool: Pool, strategy: str, seed: int, *, design: str, batch: int, target: float,
                  confidence: float, budget: float, hint_fraction: float = HINT_FRACTION) -> Run:
    """Steps 1-4 of the module docstring."""
    sim = Simulation(pool, strategy, seed, batch, hint_fraction)
    draws: list[AuditDraw] = []  # uniform audits so far (found_since filled in at each test)
    found_before: list[int] = []
    chain: dict | None = None  # the stratified chain in progress
    since, reason, limit = 0, None, budget * len(pool.ids)
    while reason is None:
        if not (~sim.labeled).any():
            reason = "exhausted"
        elif len(sim.outcomes) >= limit:
            reason = "budget"
        elif not sim.hint_fires(since):
            if not sim.active_round():
                since = len(sim.active) + 10**9  # no candidates left: audit from here on
        else:
            unlabeled = sim.unlabeled()
            if design == "uniform":
                sample = draw_audit(sim.rng, unlabeled, batch)
                found = sim.found
                positives = sim.label(sample.ids.tolist(), audit=True)
                draws.append(AuditDraw(len(unlabeled), len(sample.ids), positives, 0))
                found_before.append(found)
                current = [AuditDraw(d.unlabeled, d.labeled, d.positives, sim.found - before)
                           for d, before in zip(draws, found_before, strict=True)]
                stop = stopping_test(current, found=sim.found, unlabeled_now=int((~sim.labeled).sum()),
                                     target_recall=target, confidence=confidence).stop
            else:
                if chain is None:
                    chain = stratified_chain(sim, unlabeled)
                positives = draw_chain(sim, chain, batch)
                stop = stratified_stopping_test(chain_audit(sim, chain), found=sim.found,
                                                unlabeled_now=int((~sim.labeled).sum()), target_recall=target,
                                                confidence=confidence).stop
            if stop:
                reason = "rule"
            elif positives:
                since, chain = len(sim.active), None  # back to active rounds; the hint must fire afresh
    floor = audit_floor(int((~sim.labeled).sum()) + sim.audit_labels, sim.found, target_recall=target,
                        confidence=confidence).exact
    return sim.result(reason, floor)


def stratified_chain(sim: Simulation, unlabeled: np.ndarray, top_share: float = 0.1) -> dict:
    """Fixed strata for a chain of stratified audit batches: the top-scored ``top_share`` of the unlabeled, the rest."""
    order = np.argsort(-sim.scores(unlabeled), kind="stable")
    size = max(1, round(top_share * len(unlabeled)))
    strata = [sim.rng.permutation(unlabeled[order[:size]]), sim.rng.permutation(unlabeled[order[size:]])]
    return {"strata": strata, "drawn": [0, 0], "positives": [0, 0], "found_at_start": sim.found}


def draw_chain(sim: Simulation, chain: dict, batch: int) -> int:
    """The next batch of the chain: half from each stratum (a stratum that runs out hands its share over); each
    stratum's draws so far are a simple random sample of it (a random permutation read in order)."""
    sizes = [len(members) for members in chain["strata"]]
    top = min(batch // 2, sizes[0] - chain["drawn"][0])
    rest = min(batch - top, sizes[1] - chain["drawn"][1])
    top = min(batch - rest, sizes[0] - chain["drawn"][0])
    total = 0
    for h, take in enumerate((top, rest)):
        picked = chain["strata"][h][chain["drawn"][h]: chain["drawn"][h] + take].tolist()
        chain["drawn"][h] += take
        positives = sim.label(picked, audit=True)
        chain["positives"][h] += positives
        total += positives
    return total


def chain_audit(sim: Simulation, chain: dict) -> StratifiedAudit:
    strata = tuple(StratumSample(len(members), drawn, positives) for members, drawn, positives
                   in zip(chain["strata"], chain["drawn"], chain["positives"], strict=True))
    return StratifiedAudit(strata, sim.found - chain["found_at_start"])


def run_old_rule(pool: Pool, strategy: str, seed: int, *, batch: int, target: float, confidence: float,
                 budget: float, audit: int = 200) -> Run:
    """The previous protocol: 3 rounds under 2% positives, then uniform audits of ``audit`` texts with an active
    round between them, Callaghan & Mueller-Hansen's test after each audit."""
    sim = Simulation(pool, strategy, seed, batch)
    yields: list[float] = []
    limit = budget * len(pool.ids)
    while not (len(yields) >= 3 and max(yields[-3:]) < 0.02) and len(sim.outcomes) < limit:
        before = len(sim.active)
        if not sim.active_round():
            break
        yields.append(sum(sim.active[before:]) / max(len(sim.active) - before, 1))
    draws, found_before, reason = [], [], None
    while reason is None:
        current = [AuditDraw(d.unlabeled, d.labeled, d.positives, sim.found - before)
                   for d, before in zip(draws, found_before, strict=True)]
        if stopping_test(current, found=sim.found, unlabeled_now=int((~sim.labeled).sum()), target_recall=target,
                         confidence=confidence).stop and (~sim.labeled).any():
            reason = "rule"
        elif not (~sim.labeled).any():
            reason = "exhausted"
        elif len(sim.outcomes) >= limit:
            reason = "budget"
        else:
            if draws:
                sim.active_round()
            unlabeled = sim.unlabeled()
            if len(unlabeled):
                sample = draw_audit(sim.rng, unlabeled, audit)
                found_before.append(sim.found)
                draws.append(AuditDraw(len(unlabeled), len(sample.ids), sim.label(sample.ids.tolist(), audit=True), 0))
    return sim.result(reason, None)


def oracle_labels(outcomes: list[bool], total: int, target: float) -> int | None:
    reached = np.flatnonzero(np.cumsum(outcomes) >= math.ceil(target * total - 1e-9))
    return int(reached[0]) + 1 if len(reached) else None


def clean_audit_labels(outcomes: list[bool], audited: list[bool], pool_size: int, total: int, *, target: float,
                       confidence: float, step: int = CLI_BATCH) -> tuple[int, bool]:
    """The active labels (seed + active rounds) after which an audit of the floor's size (its closed form,
    ``N ln(1/alpha) / K_r``), drawn then, would find no positive with probability >= 1/2, read off the run's own order
    and its true remainder; checked every ``step`` labels. ``(labels, True)``, or ``(the run's active labels,
    False)`` where its order never got there (a lower bound).

    Why it matters: one audited positive puts the uniform test at about 1.6x the floor (at 95%, ``P(X <= 1)`` falls
    below 0.05 at an expected 4.74 positives in the sample, ``P(X = 0)`` at 3.00), so a median audit / floor <= 1.25
    needs most runs to audit cleanly; where this point lies beyond 1.25x the oracle, the two 1.25 bars
    cannot both be met on that order, whatever the hint."""
    outcomes_ = np.asarray(outcomes, dtype=bool)
    found = np.cumsum(outcomes_)
    active = np.cumsum(~np.asarray(audited, dtype=bool))
    ends = np.arange(step - 1, len(outcomes_), step)
    unlabeled = pool_size - (ends + 1)
    remaining = total - found[ends]
    at_target = np.asarray([remaining_at_target(int(f), target) for f in found[ends]])
    floor = np.minimum(np.ceil(unlabeled * math.log(1.0 / (1.0 - confidence)) / at_target), unlabeled)
    clean = hypergeom.pmf(0, unlabeled, remaining, floor) >= 0.5
    hits = np.flatnonzero(clean)
    return (int(active[ends[hits[0]]]), True) if len(hits) else (int(active[-1]), False)


def run_record(run: Run, pool_size: int, total: int, target: float, confidence: float) -> dict:
    oracle = oracle_labels(run.outcomes, total, target)
    clean, reached = clean_audit_labels(run.outcomes, run.audited, pool_size, total, target=target,
                                        confidence=confidence)
    return {"recall": run.found / total, "labels": len(run.outcomes), "active_labels": run.active_labels,
            "audit_labels": run.audit_labels, "oracle_labels": oracle, "reason": run.reason, "floor": run.floor,
            "clean_audit_labels": clean, "clean_audit_reached": reached}


def baseline_record(outcomes: list[bool], stop: int | None, total: int, target: float) -> dict:
    """A heuristic read off a sequence: it stops at ``stop`` (None: it never fired; the sequence's end counts)."""
    end = stop if stop is not None else len(outcomes)
    return {"recall": sum(outcomes[:end]) / total, "labels": end, "active_labels": end, "audit_labels": 0,
            "oracle_labels": oracle_labels(outcomes, total, target),
            "reason": "rule" if stop is not None else "never fired", "floor": None}


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def summarise(records: list[dict], target: float, confidence: float) -> dict:
    """Per cell: coverage over the rule-stopped runs (Wilson interval), medians of the cost ratios over them, labels /
    oracle over every run (``labels_over_oracle_every_run``: an exhausted run counts the whole pool), stop reasons,
    and every run's own record (``per_run``, in the order of the seeds), so a claim about one run can be read from the
    file."""
    stopped = [r for r in records if r["reason"] == "rule"]
    successes = sum(r["recall"] >= target - 1e-12 for r in stopped)
    low = (float(binomtest(successes, len(stopped)).proportion_ci(confidence, method="wilson").low)
           if stopped else None)

    def ratio(numerator: str, denominator: str) -> float | None:
        return _median([r[numerator] / r[denominator] for r in stopped
                        if r.get(numerator) is not None and r[denominator]])

    return {"runs": len(records), "rule_stops": len(stopped),
            "coverage": successes / len(stopped) if stopped else None, "coverage_wilson_low": low,
            "recall_at_stop_median": _median([r["recall"] for r in stopped]),
            "recall_at_stop_min": min((r["recall"] for r in stopped), default=None),
            "labels_over_oracle": ratio("labels", "oracle_labels"),
            "labels_over_oracle_every_run": _median([r["labels"] / r["oracle_labels"] for r in records
                                                     if r["oracle_labels"]]),
            "active_over_oracle": ratio("active_labels", "oracle_labels"),
            "audit_over_floor": ratio("audit_labels", "floor"),
            "clean_audit_over_oracle": ratio("clean_audit_labels", "oracle_labels"),
            "clean_audit_unreached": sum(r.get("clean_audit_reached") is False for r in stopped),
            "labels_median": _median([r["labels"] for r in stopped]),
            "oracle_labels_median": _median([r["oracle_labels"] for r in stopped]),
            "floor_median": _median([r["floor"] for r in stopped]),
            "exhausted_runs": sum(r["reason"] == "exhausted" for r in records),
            "budget_runs": sum(r["reason"] == "budget" for r in records),
            "never_fired_runs": sum(r["reason"] == "never fired" for r in records),
            "exhausted": [{k: r[k] for k in ("recall", "labels")} for r in records if r["reason"] == "exhausted"],
            "per_run": [{key: value.item() if isinstance(value, np.generic) else value for key, value in r.items()}
                        for r in records]}


def evaluate_cell(pool: Pool, strategy: str, seeds: list[int], args: argparse.Namespace) -> list[dict]:
    total = int(pool.is_positive.sum())
    kwargs = {"batch": args.batch, "target": args.target_recall, "confidence": args.confidence,
              "budget": args.budget}
    methods: dict[str, list[dict]] = {}
    for seed in seeds:
        for design in args.designs.split(","):
            run = run_certified(pool, strategy, seed, design=design, hint_fraction=args.hint_fraction, **kwargs)
            record = run_record(run, len(pool.ids), total, args.target_recall, args.confidence)
            methods.setdefault(f"certified-{design}", []).append(record)
            print({"cell": pool.name, "strategy": strategy, "design": design, "seed": seed, **record},
                  file=sys.stderr, flush=True)  # progress: a long cell shows each run as it ends
            if design != "uniform":
                continue
            outcomes = run.outcomes
            for name, stop in (("knee", knee_stop(outcomes, step=args.batch)),
                               ("50-negatives-in-a-row", negatives_in_a_row_stop(outcomes, 50)),
                               ("100-negatives-in-a-row", negatives_in_a_row_stop(outcomes, 100))):
                methods.setdefault(name, []).append(baseline_record(outcomes, stop, total, args.target_recall))
        if args.old_rule:
            run = run_old_rule(pool, strategy, seed, **kwargs)
            methods.setdefault("old-rule", []).append(run_record(run, len(pool.ids), total, args.target_recall,
                                                                 args.confidence))
    return [{"cell": pool.name, "pool_size": len(pool.ids), "positives": total, "prevalence": pool.prevalence,
             "large": pool.large, "strategy": strategy, "method": method,
             **summarise(records, args.target_recall, args.confidence)} for method, records in methods.items()]


def summary(rows: list[dict]) -> dict:
    certified = [row for row in rows if row["method"] == "certified-uniform"]
    lows = [row["coverage_wilson_low"] for row in certified if row["coverage_wilson_low"] is not None]
    large: dict[str, dict] = {}
    for rate in LARGE_RATES:
        cells = [row for row in certified if row["large"] and abs(row["prevalence"] - rate) < rate / 4]
        if cells:
            large[f"{rate:.1%}"] = {key: _median([row[key] for row in cells]) for key in
                                    ("audit_over_floor", "active_over_oracle", "labels_over_oracle")}
    return {"worst_coverage_wilson_low": min(lows) if lows else None,
            "median_audit_over_floor": _median([row["audit_over_floor"] for row in certified]),
            "median_active_over_oracle": _median([row["active_over_oracle"] for row in certified]),
            "median_labels_over_oracle": _median([row["labels_over_oracle"] for row in certified]),
            "exhausted_runs": sum(row["exhausted_runs"] for row in certified),
            "large_pools_per_prevalence": large}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--confidence", type=float, default=0.95)
    parser.add_argument("--batch", type=int, default=CLI_BATCH)
    parser.add_argument("--budget", type=float, default=1.0, help="stop a run at this share of the pool labeled")
    parser.add_argument("--hint-fraction", type=float, default=HINT_FRACTION,
                        help="the audit hint's share of the active yield (textsel.status.HINT_FRACTION)")
    parser.add_argument("--strategies", default="most-likely-positive,entropy")
    parser.add_argument("--designs", default="uniform", help="audit designs: uniform,stratified")
    parser.add_argument("--cells", default="small", help="small, large or small,large")
    parser.add_argument("--small-cells", default=",".join(name for name, _ in SMALL_CELLS))
    parser.add_argument("--large-size", type=int, default=100_000)
    parser.add_argument("--large-rates", default=",".join(str(rate) for rate in LARGE_RATES))
    parser.add_argument("--no-old-rule", dest="old_rule", action="store_false",
                        help="skip the previous rule's runs (they cost as much as the certified ones)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = add_run_options(parser).parse_args()
    if not available():
        sys.exit("the shared data sets are not present (../shared/data)")
    run = start_run(args)
    seeds = list(range(args.seeds))
    loaders = []
    if "small" in args.cells.split(","):
        loaders += [(name, lambda name=name: load_small(name)) for name in args.small_cells.split(",") if name]
    if "large" in args.cells.split(","):
        loaders += [(f"large@{rate}", lambda rate=float(rate): load_large(rate, args.large_size))
                    for rate in args.large_rates.split(",") if rate]
    rows = []
    for _name, load in loaders:
        pool = load()
        for strategy in args.strategies.split(","):
            cell_rows = evaluate_cell(pool, strategy, seeds, args)
            for row in cell_rows:
                print({k: row[k] for k in ("cell", "strategy", "method", "coverage", "labels_over_oracle",
                                           "audit_over_floor", "active_over_oracle", "exhausted_runs")},
                      file=sys.stderr, flush=True)
            rows += cell_rows
    payload = {"benchmark": "stopping", "target_recall": args.target_recall, "confidence": args.confidence,
               "protocol": {"batch": args.batch, "budget": args.budget, "designs": args.designs,
                            "seed_labels": f"{SEED_POSITIVES} positives + {SEED_NEGATIVES} negatives",
                            "learner": "logistic", "candidates": "every unlabeled text",
                            "hint": f"textsel.status.negatives_needed ({args.hint_fraction:.0%} of the yield, 95%)",
                            "hint_fraction": args.hint_fraction,
                            "large_pool_features": "hashing TF-IDF (2^18, 1-2 grams) -> truncated SVD 128"},
               "summary": summary(rows), "cells": rows}
    run.finish(payload, seeds=seeds, out=args.out)


if __name__ == "__main__":
    main()
