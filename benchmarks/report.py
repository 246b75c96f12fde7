"""The benchmark figures in the docs, written from the results files only: ``python -m benchmarks.report``.

README.md, docs/*.md, recipes/*.md and benchmarks/results/README.md hold marked regions::

    <!-- results:NAME -->generated text<!-- /results:NAME -->

Each NAME is a :class:`Region` below: the results files it reads, whether it quotes timings, and how it turns them
into text. The script rewrites every region from its files; ``--check`` writes nothing and exits 1 when a region is
out of date (tests/unit/test_docs_report.py runs it, so a stale doc fails CI). A region whose file is not quotable
says so instead of quoting it:

- written from a tree with uncommitted changes (``git_dirty``), or predating a change that alters what it measured
  (:data:`STALE_BEFORE`);
- ``busy``: a 1-minute load average above the core count, as recorded by the writer (benchmarks/_results.py), in a
  file's own load fields, or noted for older files that did not record it (:data:`NOTED_LOAD`);
- for a region that quotes timings: no load average recorded at all (the machine may have been shared).

A region whose file does not exist yet says which command writes it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "docs/*.md", "recipes/*.md", "benchmarks/results/README.md")
REGION = re.compile(r"<!-- results:(?P<name>[\w.-]+) -->(?P<body>.*?)<!-- /results:(?P=name) -->", re.S)
OPENING = re.compile(r"<!-- results:([\w.-]+) -->")
# Results written before this date measured the learner the round engine no longer uses.
STALE_BEFORE = ("2026-12-02T01:49:52+00:00", "predates the Newton learner change (1fe909b)")
# Loads noted where a file was committed, for files written before the writer recorded them (none left).
NOTED_LOAD: dict[str, float] = {}


def load_span(document: dict) -> str:
    """"load average LOW-HIGH" over every load the file records, or "load not recorded"."""
    loads = recorded_loads(document)
    return f"load average {min(loads)}-{max(loads)}" if loads else "load not recorded"


def recorded_loads(document: dict) -> list[float]:
    """Every 1-minute load average a results file records: the writer's, a benchmark's own fields, per seed."""
    loads: list[float] = []

    def collect(value) -> None:  # noqa: ANN001
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            loads.append(float(value))
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for holder in [document, document.get("provenance", {}), *document.get("per_seed", [])]:
        if isinstance(holder, dict):
            for key in ("load_average_1min", "load_average_1m"):
                collect(holder.get(key))
    return loads


def refusal(path: str, document: dict, *, timing: bool) -> str | None:
    """Why ``document`` (the file at ``path``) may not be quoted, or None when it may."""
    block = document.get("provenance", {})
    if block.get("git_dirty") or block.get("dirty"):
        return "was written from a tree with uncommitted changes"
    if str(block.get("date", "")) < STALE_BEFORE[0]:
        return STALE_BEFORE[1]
    cores = block.get("cores") or block.get("machine", {}).get("cores") or 1
    loads = recorded_loads(document) or ([NOTED_LOAD[path]] if path in NOTED_LOAD else [])  # noted: older files
    if block.get("busy") or any(load > cores for load in loads):
        return f"was measured under load (1-minute load average up to {max(loads, default=0):.1f} on {cores} cores)"
    if timing and not loads:
        return "records no load average, so its timings may come from a shared machine"
    return None


@dataclass(frozen=True)
class Region:
    """A generated region: the results files it reads (relative to the repository), whether it quotes timings,
    how it renders them, and the command that writes its first file (for when it does not exist yet)."""

    sources: tuple[str, ...]
    render: Callable[..., str]
    timing: bool = False
    command: str = ""


def pct(value: float, digits: int = 1) -> str:
    return f"{100 * value:.{digits}f}%"


def interval(spread: dict, scale: float = 1.0, digits: int = 2, suffix: str = "") -> str:
    """'mean (low-high)' of a mean_ci95 block."""
    low, high = spread["ci95"]
    if low is None:
        return f"{scale * spread['mean']:.{digits}f}{suffix}"
    return f"{scale * spread['mean']:.{digits}f}{suffix} ({scale * low:.{digits}f}-{scale * high:.{digits}f})"


# --- renderers: each takes the loaded documents, in the order of the region's sources -----------------------------

def embed_summary(result: dict) -> str:
    variants = result["variants"]
    return (f"`embed_pool` float32 {variants['float32']['ratio_vs_fp32']}x raw; bfloat16 "
            f"**{variants['bfloat16']['ratio_vs_fp32']}x** raw at cosine min {variants['bfloat16']['cosine_min']}, "
            f"recall@10 {variants['bfloat16']['recall_at_10']} ({load_span(result)}); "
            f"{1e6 / variants['float32']['texts_per_s'] / 3600:.1f} h per million texts in float32, "
            f"{1e6 / variants['bfloat16']['texts_per_s'] / 3600:.1f} h in bfloat16")


def embed_table(result: dict) -> str:
    rows = [("raw `SentenceTransformer.encode`, float32 (baseline)", result["baseline"]["texts_per_s"], 1, "–", "–")]
    for name, variant in result["variants"].items():
        rows.append((f"`embed_pool`, {name}", variant["texts_per_s"], variant["ratio_vs_fp32"],
                     f"{variant['cosine_min']:.5f} / {variant['cosine_mean']:.5f}", variant["recall_at_10"]))
    lines = ["| encoder (pipeline) | texts/s | vs raw float32 | cosine min / mean | recall@10 | hours per million "
             "here |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {rate} | {ratio} | {cosine} | {recall} | {1e6 / rate / 3600:.1f} |"
              for name, rate, ratio, cosine, recall in rows]
    return "\n".join(lines) + (f"\n\n{result['n_texts']:,} texts, slices of {result['slice']} interleaved, "
                               f"{result['torch_threads']} torch threads, {load_span(result)}.")


def embed_cost(result: dict) -> str:
    """Per pool size: embedding hours at the measured rates (linear), HNSW RAM by the formula in docs/scale.md
    (1,684.5 bytes on disk + ~92 in RAM per vector) and float32 embeddings (1,536 bytes per vector)."""
    fp32, bf16 = (result["variants"][name]["texts_per_s"] for name in ("float32", "bfloat16"))

    def duration(seconds: float) -> str:
        return f"~{seconds / 86400:.0f} days" if seconds > 4 * 86400 else f"~{seconds / 3600:.1f} h"

    lines = ["| pool | embed, float32 | embed, bf16 | HNSW RAM | float32 embeddings in RAM |", "|---|---|---|---|---|"]
    for label, n in (("1M", 1e6), ("10M", 1e7), ("100M", 1e8)):
        lines.append(f"| {label} | {duration(n / fp32)} | {duration(n / bf16)} | ~{n * (1684.5 + 92) / 1e9:.1f} GB | "
                     f"{n * 1536 / 1e9:.1f} GB |")
    return "\n".join(lines)


def next_latency_line(dense: dict, static: dict, static_build: dict, exact_build: dict) -> str:
    """next_latency on review_sentences in one line: fresh file to first selection three ways (transformer features
    over the HNSW or the exact static index, static features), then `next` with static features."""
    def median(phase: str, command: str) -> str:
        return f"{static[phase][command]['wall_s_median']:.2f}"

    peak = max(values["peak_rss_mb_max"] for phase in ("after_100_labels", "after_2000_labels")
               for values in static[phase].values() if isinstance(values, dict))
    build = dense.get("build_load_average_1min") or {}
    loads = f", the build's own load {build['start']}-{build['end']}" if build else ""
    return (f"{static['n_docs']:,} review sentences: fresh file to first selection "
            f"{dense['fresh_to_first_selection_s']:,.0f} s (static first pass, transformer features{loads}), "
            f"{exact_build['fresh_to_first_selection_s']:,.0f} s with the exact static index instead of HNSW and its "
            f"neighbour table, "
            f"{static_build['fresh_to_first_selection_s']:,.0f} s with static features (no index before it); with "
            f"static features `next` median SEALS "
            f"{median('after_100_labels', 'seals')} s, auto {median('after_100_labels', 'auto')} s after 100 labels, "
            f"{median('after_2000_labels', 'seals')} s and {median('after_2000_labels', 'auto')} s after 2,000; first "
            f"card of `label` {median('after_2000_labels', 'label_first_card')} s; peak RSS {peak:,.0f} MB")


def seals_scale_figures(entry: dict) -> tuple[dict, dict]:
    """One seals_scale concept's All / SEALS (every per-round cost) and SEALS / All positives, as mean_ci95 blocks."""
    speed = next(value for key, value in entry.items() if key.startswith("all_over_seals_all_costs_at_"))
    found = next(value for key, value in entry.items() if key.startswith("seals_over_all_positives_at_"))
    return speed, found


def seals_scale_line(result: dict) -> str:
    """seals_scale on review_sentences in one line: the All/SEALS and SEALS/All ranges over its concepts."""
    size = result["sizes"][-1]
    figures = [seals_scale_figures(entry) for entry in size["concepts"]]
    speed, found = [speed["mean"] for speed, _ in figures], [found["mean"] for _, found in figures]
    return (f"{size['n_docs']:,} review sentences, {len(size['concepts'])} rare concepts, "
            f"{len(result['session_seeds'])} seeds: All / SEALS per round with every cost {min(speed):.2f}-"
            f"{max(speed):.2f}x, SEALS / All positives {min(found):.2f}-{max(found):.2f} (docs/scale.md)")


def seals_vs_all(result: dict) -> str:
    return (f"AP ratio {interval(result['ap_ratio'])} (n={result['ap_ratio']['n']}; lowest row "
            f"{result['ap_ratio_min']:.2f}); positives ratio {interval(result['positives_ratio'])} (lowest row "
            f"{result['positives_ratio_min']:.2f}); SEALS scans {pct(result['pool_fraction_mean'], 0)} of the "
            f"{result['pool_size']:,}-text pool" + seals_vs_all_timing(result))


def seals_vs_all_timing(result: dict) -> str:
    """The selection-time ratio All/SEALS, only from a file that records its load (older ones did not)."""
    if not recorded_loads(result) or "select_time_ratio" not in result:
        return "; its timings recorded no load average and are not quoted"
    return (f"; All/SEALS selection time per round {interval(result['select_time_ratio'])} (below 1: SEALS is "
            f"slower at this pool size; {load_span(result)}"
            + (f"; index build {result['index_build_seconds']:.0f} s once)" if result.get("index_build_seconds")
               else ")"))


def svp_proxy_settings(result: dict, target: dict) -> str:
    paper, small = result["summary"]["paper"], result["summary"]["small_data"]
    seeds = target["provenance"]["seeds"]
    return (f"{len(result['provenance']['seeds'])} seeds, majority error {pct(result['majority_error']['mean'])}: "
            f"paper settings (5 epochs, lr 0.05) proxy error {pct(paper['proxy_test_error']['mean'])}, round-1 score "
            f"spread {paper['score_spread_round1']['mean']:.4f}, {pct(paper['negative_share_chosen']['mean'], 0)} "
            f"negatives chosen; small-data settings (25 epochs, lr 0.5) {pct(small['proxy_test_error']['mean'])}, "
            f"{small['score_spread_round1']['mean']:.3f}, {pct(small['negative_share_chosen']['mean'], 0)}; the MiniLM "
            f"target trained on the small-data proxy's 1,000 labeled texts: "
            f"{interval(target['summary']['small_data']['target_error'], 100, suffix='%')} error "
            f"(seeds {seeds[0]}-{seeds[-1]})")


def svp_learners(result: dict) -> str:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from svp_learners import headline  # the benchmark states its own headline and verdict

    return headline(result)


def recipe_seals(result: dict) -> str:
    rows = result["seals"]
    fractions = [row["seals_pool_fraction"] for row in rows]
    aps, positives = [row["ap_ratio"] for row in rows], [row["positives_ratio"] for row in rows]
    return (f"{len(rows)} category x strategy rows: SEALS scores {pct(sum(fractions) / len(fractions))} of the pool "
            f"per round (max {pct(max(fractions))}); SEALS/All AP {sum(aps) / len(aps):.2f} (min {min(aps):.2f}), "
            f"positives {sum(positives) / len(positives):.2f} (min {min(positives):.2f})")


def spoiler_tables(result: dict, *, diagnostic: bool = True) -> str:
    """The spoiler recipe's own tables (recipes/goodreads_spoilers.py ``tables``) from its results file."""
    sys.path.insert(0, str(REPO / "recipes"))
    from goodreads_spoilers import tables

    seals_all, diagnostics = tables(result["per_concept"])
    return f"{seals_all}\n\n{diagnostics}" if diagnostic else seals_all


def results_index() -> str:
    """Every committed results file, the command that wrote it, when, and whether the docs may quote it."""
    lines = ["| file | command | date (UTC) | quotable |", "|---|---|---|---|"]
    for folder in ("benchmarks/results", "recipes/results"):
        for path in sorted((REPO / folder).glob("*.json")):
            document = json.loads(path.read_text(encoding="utf-8"))
            block, source = document.get("provenance", {}), f"{folder}/{path.name}"
            why = refusal(source, document, timing=True)
            untimed = refusal(source, document, timing=False)
            verdict = "yes" if not why else (f"all but its timings: it {why}" if not untimed else f"no: it {why}")
            lines.append(f"| `{source}` | `{block.get('command', '?')}` | {str(block.get('date', '?'))[:16]} | "
                         f"{verdict} |")
    return "\n".join(lines)


def ratio_or_dash(value: float | None) -> str:
    """A ratio with two decimals, or "-" where a cell has none (no run stopped by the rule)."""
    return "-" if value is None else f"{value:.2f}"


def stopping_cells(result: dict) -> str:
    """stopping.py: per cell and method, coverage with its Wilson bound and the cost ratios; then the summary.
    Files that record it add the clean-audit point over the oracle (certified rules only; "-" elsewhere)."""
    clean = any("clean_audit_over_oracle" in row for row in result["cells"])
    lines = ["| cell | strategy | method | rule stops / runs | coverage (Wilson low) | labels / oracle | "
             "active / oracle | audit / floor | " + ("clean audit / oracle | " if clean else "") + "pool exhausted |",
             "|---|---|---|---|---|---|---|---|" + ("---|" if clean else "") + "---|"]
    for row in result["cells"]:
        coverage = "-" if row["coverage"] is None else \
            f"{row['coverage']:.2f} ({ratio_or_dash(row['coverage_wilson_low'])})"
        clean_cell = ""
        if clean:
            certified = row["method"].startswith("certified")
            clean_cell = f"{ratio_or_dash(row.get('clean_audit_over_oracle') if certified else None)} | "
        lines.append(f"| {row['cell']} ({row['pool_size']:,} texts, {row['positives']} positive) | {row['strategy']} | "
                     f"{row['method']} | {row['rule_stops']} / {row['runs']} | {coverage} | "
                     f"{ratio_or_dash(row['labels_over_oracle'])} | {ratio_or_dash(row['active_over_oracle'])} | "
                     f"{ratio_or_dash(row['audit_over_floor'])} | {clean_cell}{row['exhausted_runs']} |")
    return "\n".join(lines) + "\n\n" + stopping_line(result)


def stopping_line(result: dict) -> str:
    """stopping.py in one line: the certified uniform rule's summary over every cell."""
    summary, seeds = result["summary"], len(result["provenance"]["seeds"])
    return (
        f"{seeds} seeds per cell, batch {result['protocol']['batch']}, target recall "
        f"{pct(result['target_recall'], 0)} at {pct(result['confidence'], 0)} confidence, audit hint "
        f"{result['protocol']['hint']}. Certified uniform rule: "
        f"worst coverage Wilson low {ratio_or_dash(summary['worst_coverage_wilson_low'])}, median audit / floor "
        f"{ratio_or_dash(summary['median_audit_over_floor'])}, median active / oracle "
        f"{ratio_or_dash(summary['median_active_over_oracle'])}, median labels / oracle "
        f"{ratio_or_dash(summary['median_labels_over_oracle'])}; {summary['exhausted_runs']} runs exhausted the pool "
        f"(counted apart, never as stops)." + large_pools_line(summary))


def stopping_hint_fit(result: dict) -> str:
    """stopping_hint_fit.py: per fraction of the audit hint, coverage and the cost ratios over every fit run; the
    fraction it chose."""
    pools = ", ".join(f"{pool['concept']} ({pool['pool_size']:,} texts, {pool['positives']} positive)"
                      for pool in result["pools"])
    lines = ["| hint fraction | rule stops / runs | coverage | labels / oracle, every run | labels / oracle | "
             "active / oracle | audit / floor | clean audit / oracle | pool exhausted |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in result["fractions"]:
        chosen = " (chosen)" if row["fraction"] == result["chosen_fraction"] else ""
        lines.append(f"| {row['fraction']:g}{chosen} | {row['rule_stops']} / {row['runs']} | "
                     f"{ratio_or_dash(row['coverage'])} | {ratio_or_dash(row['labels_over_oracle_every_run'])} | "
                     f"{ratio_or_dash(row['labels_over_oracle'])} | "
                     f"{ratio_or_dash(row['active_over_oracle'])} | {ratio_or_dash(row['audit_over_floor'])} | "
                     f"{ratio_or_dash(row['clean_audit_over_oracle'])} | {row['exhausted_runs']} |")
    seeds = len(result["provenance"]["seeds"])
    return ("\n".join(lines) + f"\n\nFit on {pools}; {seeds} seeds each, {result['strategy']}, batch "
            f"{result['batch']}; the other ratios are medians over the rule-stopped runs. Chosen: the lowest labels "
            f"/ oracle over every run among fractions that covered every rule stop: {result['chosen_fraction']:g}.")


def stopping_hint_fit_line(result: dict) -> str:
    """stopping_hint_fit.py in one line: the chosen fraction, its cost, and the fractions that missed a stop."""
    rows = {row["fraction"]: row for row in result["fractions"]}
    chosen = rows[result["chosen_fraction"]]
    short = [f"{f:g} ({ratio_or_dash(row['coverage'])})" for f, row in rows.items() if (row["coverage"] or 0) < 1]
    return (f"chose {result['chosen_fraction']:g} of the active yield: coverage {ratio_or_dash(chosen['coverage'])}, "
            f"labels / oracle over every run {ratio_or_dash(chosen['labels_over_oracle_every_run'])} on "
            f"{len(result['pools'])} concepts x {len(result['provenance']['seeds'])} seeds"
            + (f"; coverage below 1 at {', '.join(short)}" if short else ""))


def large_pools_line(summary: dict) -> str:
    """The medians per prevalence over the cells of pools of 100k+ texts (target: labels / oracle <= 2 at 1%+)."""
    large = summary.get("large_pools_per_prevalence") or {}
    if not large:
        return ""
    return " Pools of 100k+ texts, medians per prevalence: " + "; ".join(
        f"{rate}: labels / oracle {ratio_or_dash(row['labels_over_oracle'])}, active / oracle "
        f"{ratio_or_dash(row['active_over_oracle'])}, audit / floor {ratio_or_dash(row['audit_over_floor'])}"
        for rate, row in large.items()) + "."


def held_out_agreement(result: dict) -> list[tuple[str, str, dict, list[tuple[str, dict, float]]]]:
    """Per fold of diagnose_validation: (fitted on, judged on, the fold's record, [(policy, held-out record,
    agreement of the constant rule "always no mismatch" on the same label sets)]), computed from the file's rows, so
    older files show the constant rule too."""
    folds = []
    for fold, data in result["folds"].items():
        judged = "".join(other for other in result["folds"] if other != fold)
        cells = []
        for policy, held in data["held_out"].items():
            rows = [row for row in result["rows"] if row["concept"] in data["held_out_concepts"]
                    and row["policy"] == policy and row["knn"] is not None]
            constant = sum(not row["truth_mismatch"] for row in rows) / len(rows) if rows else float("nan")
            cells.append((policy, held, constant))
        folds.append((fold, judged, data, cells))
    return folds


def diagnose_validation(result: dict, _thresholds: dict) -> str:
    """Held-out agreement per label-collection policy beside the constant rule "always no mismatch" on the same
    label sets, and the recall a larger k or a full scan recovers."""
    folds = held_out_agreement(result)
    policies = [policy for policy, _held, _constant in folds[0][3]]
    lines = ["| fitted on fold | judged on fold | " + " | ".join(policies) + " |", "|---|---|" + "---|" * len(policies)]
    for fold, judged, data, cells in folds:
        lines.append(f"| {fold} ({data['thresholds']['rule']}) | {judged} | "
                     + " | ".join(f"{held['agreement']:.2f} vs {constant:.2f} ({held['rows']})"
                                  for _policy, held, constant in cells) + " |")
    recovered = [row for row in result["recovery"] if row["strategy"] == "mlp"]
    recovery = "; ".join(f"{row['concept']} {row['variant']}: recall {row['recall_mean']:.2f}" for row in recovered)
    return ("Agreement of the fitted rule vs the constant rule \"always no mismatch\" (label sets judged):\n\n"
            + "\n".join(lines) + (f"\n\nRecall at {recovered[0]['budget']:,} labels (MLP): {recovery}."
                                  if recovered else ""))


def diagnose_validation_line(result: dict, _thresholds: dict) -> str:
    """One line for a table cell: held-out agreement of the fitted rule and of "always no mismatch", per fold."""
    parts = [f"fitted on {fold}, judged on {judged}: " + ", ".join(
        f"{policy} {held['agreement']:.2f} vs {constant:.2f}" for policy, held, constant in cells)
        for fold, judged, _data, cells in held_out_agreement(result)]
    return "held-out agreement, rule vs \"always no mismatch\": " + "; ".join(parts)


def screening_tune(result: dict) -> str:
    """Labels to 95% recall over ASReview's on the held-out reviews, per configuration: the median ratio (paired
    by seed) and the share of reviews where textsel needed fewer; which configuration the tuning reviews chose."""
    held = result["held_out"]["over_asreview_labels_to_95"]
    parts = [f"{name} {row['median_ratio']:.2f}, fewer on {round(row['share_of_reviews_fewer'] * row['reviews'])} "
             f"of {row['reviews']}" for name, row in held.items()]
    return (f"{result['seeds_per_review']} seeds, {len(result['split']['held_out'])} held-out reviews, textsel / "
            f"ASReview labels to 95% recall (median; target <= 0.9, fewer on >= 80%): " + "; ".join(parts)
            + f"; chosen on the {len(result['split']['tuning'])} tuning reviews: {result['chosen_on_tuning']}")


def screening(result: dict) -> str:
    """textsel's default and its variants over ASReview's labels to 95% recall on all 14 reviews (paired by seed),
    beside mean WSS@95; 6 of the reviews chose the default (screening_tune.json holds the held-out figure).

    Two figures say how far the features measured here can go: the median over reviews of the best ratio among
    the default and its variants, picked per review with hindsight (no configuration can be chosen that way, so it
    bounds what choosing among them could reach), and the reviews where ASReview labeled more than half of the
    records to reach 95% recall (there the last included records rank like the excluded ones, for both tools)."""
    rows = {"default": result["textsel_over_asreview_labels_to_95"],
            **{name.removeprefix("textsel-"): row for name, row in
               result["variants_over_asreview_labels_to_95"].items()}}
    parts = [f"{name} {row['median_ratio']:.2f}, fewer on {round(row['share_of_reviews_fewer'] * row['reviews'])} "
             f"of {row['reviews']}" for name, row in rows.items()]
    wss = {method: [review["methods"][method]["wss_95_mean"] for review in result["reviews"].values()]
           for method in ("textsel", "asreview")}
    wss = {method: sum(values) / len(values) for method, values in wss.items()}
    default = result["textsel_default"]
    hindsight = statistics.median(min(row["per_review"][review] for row in rows.values()) for review in
                                  result["reviews"])
    long_hunts = sum(review["methods"]["asreview"]["labels_to_95_mean"] > review["records"] / 2
                     for review in result["reviews"].values())
    return (f"{result['seeds_per_review']} seeds, {len(result['reviews'])} reviews (6 of them chose the default), "
            f"textsel / ASReview labels to 95% recall (median): " + "; ".join(parts)
            + f"; mean WSS@95 {wss['textsel']:.3f} vs {wss['asreview']:.3f}; the default: {default['features']} "
              f"features, {default['learner']}, batch {default['batch']}; with hindsight, the best of these "
              f"{len(rows)} per review: median {hindsight:.2f}; ASReview labeled more than half of the records "
              f"to reach 95% on {long_hunts} of {len(result['reviews'])} reviews")


def score_ray(result: dict) -> str:
    """Local against Ray scoring of the whole pool: medians, the ratio, the marginal rate and the one-time start."""
    local, ray, small = result["local"], result["ray"], result["ray_small"]
    return (f"{result['rows']:,} rows ({result['storage']}, {result['learner']}), local Ray with "
            f"{result['ray_cpus']} CPUs and {result['ray_workers']} actors, median of 3 "
            f"({load_span(result)}): local {local['seconds']:.2f} s, Ray {ray['seconds']:.2f} s "
            f"(**{result['ray_over_local']:.1f}x the local time**); a Ray call on {small['rows']:,} rows "
            f"{small['seconds']:.2f} s (its fixed cost), so {result['ray_marginal_seconds_per_million']:.1f} s per "
            f"million rows beyond it against {local['seconds_per_million']:.1f} s locally; `ray.init` "
            f"{result['ray_start_seconds']:.1f} s once; largest difference in probabilities "
            f"{result['max_abs_difference']:g}")


def static_first_pass(result: dict) -> str:
    """Static encoding against MiniLM (interleaved), what the first pass finds against all-MiniLM SEALS at equal
    labels, and the time to the first selection on this pool (the 1M figure is labeled an extrapolation)."""

    def span(key: str, k: int) -> str:
        means = [row[f"static_k{k}"][key]["mean"] for row in result["per_concept"]]
        return f"{min(means):.2f}-{max(means):.2f}"

    ks = [k for k in result["static_k"] if all(f"static_k{k}" in row for row in result["per_concept"])]
    found = "; ".join(f"k={k}: positives {span('positives_ratio_vs_full', k)}x, AP {span('ap_ratio_vs_full', k)}x "
                      f"of all-MiniLM SEALS, MiniLM embedded {span('transformer_share', k)} of the pool" for k in ks)
    first = result["first_selection"]
    return (f"static {result['static_ratio_vs_minilm']}x MiniLM float32 ({load_span(result)}; "
            f"distilling {result['distill_s']:.0f} s once); at {result['budget']:,} labels, {result['repeats']} seeds, "
            f"{len(result['per_concept'])} concepts: {found}; first selection on the {first['pool']:,}-text pool "
            f"{first['total_s']:,.0f} s vs {first['all_transformer_embed_s']:,.0f} s to embed the pool with MiniLM "
            f"first; at 1M, extrapolated (not measured): "
            f"{first['extrapolated_1m']['speedup_vs_all_transformer_embedding']}x")


def index_recall(result: dict) -> str:
    return (f"recall@{result['k']} {result['recall_at_k']:.3f} at ef={result['ef']} ({result['n_vectors']:,} vectors; "
            f"{result['reference_ef200']['recall_at_k']:.3f} at ef=200); {result['recall_with_exclude']:.3f} with "
            f"{result['n_excluded']:,} ids excluded")


def svp_amazon(result: dict, selection: dict) -> str:
    """The paper-settings proxy against the MiniLM target: errors of the full run, speed-up (all costs: with the
    warm-ups) of the selection-only run; the speed-up is no headline while the proxy ranks near random."""
    full, timed = result["summary"]["spread"], selection["summary"]["spread"]
    at_random = full["spearman"]["mean"] < 0.1
    speed = (f"selection speed-up {interval(timed['selection_speedup_with_warmup'], digits=1)}x with warm-ups"
             + (" (not a headline: the proxy ranks near random)" if at_random else ""))
    return (f"{len(result['summary']['seeds'])} seeds: {speed}; MiniLM error "
            f"{interval(full['error_proxy_selected'], 100, suffix='%')} proxy-selected, "
            f"{interval(full['error_target_selected'], 100, suffix='%')} target-selected, "
            f"{interval(full['error_random'], 100, suffix='%')} random, majority "
            f"{pct(full['majority_error']['mean'])}; Spearman {full['spearman']['mean']:.2f}")


def fresh_to_first_selection(result: dict) -> str:
    """next_latency on review_sentences, phase build: each step of a fresh file -> the first selection."""
    steps = result["steps"]
    parts = ", ".join(f"{name.replace('_', ' ')} {steps[name]['wall_s']:,.1f} s ({steps[name]['peak_rss_mb']:,.0f} MB)"
                      for name in ("init", "embed", "index", "import_seed", "first_next") if name in steps)
    build = result.get("build_load_average_1min")
    static = result.get("features") == "static"
    end = "" if static else ", its end after the transformer embedded the first candidates"
    build_load = f"; the build's own load average {build['start']}-{build['end']}{end}" if build else ""
    return (f"{result['n_docs']:,} real sentences ({result['pool']}; {load_span(result)}{build_load}): "
            f"fresh file -> first selection **{result['fresh_to_first_selection_s']:,.0f} s** measured ({parts}); "
            f"distilling the static model once per machine {steps['distill']['wall_s']:,.0f} s")


def next_commands(result: dict) -> str:
    """next_latency on review_sentences, phase run: command medians and peak RSS after 100 and 2,000 labels."""
    lines = ["| labels | command | median s | p95 s | peak RSS MB |", "|---|---|---|---|---|"]
    phases = ("after_100_labels", "after_2000_labels")
    for phase in (phase for phase in phases if phase in result):
        for command, values in result[phase].items():
            if isinstance(values, dict):
                lines.append(f"| {result[phase]['labels_at_start']:,} | {command} | {values['wall_s_median']} | "
                             f"{values['wall_s_p95']} | {values['peak_rss_mb_max']:,.0f} |")
    missing = [phase.replace("_", " ") for phase in phases if phase not in result]
    one_time = result.get("run_one_time", {}).get("embed_on_copy")
    baseline = result.get("baseline") or {}
    against = [f"{result[phase]['seals']['wall_s_median'] / result[phase]['seals_baseline']['wall_s_median']:.2f} "
               f"after {result[phase]['labels_at_start']:,} labels" for phase in phases
               if "seals" in result.get(phase, {}) and "seals_baseline" in result.get(phase, {})]
    notes = [f"{result['n_docs']:,} sentences, concept {result['concept']} (prevalence "
             f"{pct(result['prevalence'], 2)}), {result['rounds']} rounds of {result['batch']} per phase"
             + (f"; not measured: {', '.join(missing)}." if missing else ".")]
    if one_time:
        notes.append(f"One-time, before the rounds: `textsel embed` on the copy (checksums of the copied caches, the "
                     f"float32 static rows) {one_time['wall_s']:.1f} s, peak RSS {one_time['peak_rss_mb']:,.0f} MB.")
    if against:
        who = baseline.get("label") or "another textsel"
        notes.append(f"`seals_baseline` is the same `next --pool seals` run by {who} on its own copy, interleaved in "
                     f"the same rounds: seals / seals_baseline medians {', '.join(against)}.")
    return "\n".join(lines) + "\n\n" + " ".join(notes)


def static_features(result: dict) -> str:
    """static_features: positives a logistic model on static vectors finds against one on MiniLM, per concept."""
    lines = ["| concept | texts | prevalence | static / MiniLM positives |", "|---|---|---|---|"]
    lines += [f"| {row['concept']} | {row['texts']:,} | {pct(row['prevalence'], 1)} | "
              f"{interval(row['static_over_minilm'])} |" for row in result["concepts"]]
    summary = result["summary"]
    return "\n".join(lines) + (
        f"\n\nAfter {result['budget']:,} labels ({result['strategy']}, batch {result['batch']}, every text scored, "
        f"{len(result['provenance']['seeds'])} seeds): median {summary['static_over_minilm_median']:.2f}x over "
        f"{len(result['concepts'])} concepts ({summary['static_over_minilm_min']:.2f}-"
        f"{summary['static_over_minilm_max']:.2f}).")


def seals_all_costs(result: dict) -> str:
    """seals_scale on review_sentences: All/SEALS with every per-round cost, and SEALS/All positives, per concept."""
    size = result["sizes"][-1]
    lines = ["| concept | prevalence | All / SEALS per round, all costs | SEALS / All positives |", "|---|---|---|---|"]
    for entry in size["concepts"]:
        speed, found = seals_scale_figures(entry)
        lines.append(f"| {entry['concept']} | {pct(entry['prevalence'], 2)} | {interval(speed)}x | "
                     f"{interval(found)} |")
    return "\n".join(lines) + (f"\n\n{size['n_docs']:,} sentences, SEALS k={result['k']}, "
                               f"{len(result['session_seeds'])} seeds, process start {result['process_start_s']:.2f} s "
                               f"counted in every round of both sides.")


def ray_projection(latency: dict, scale: dict) -> str:
    """10M and 100M texts on Ray from the per-node rates measured at 1.1M (never loaded rates: both files passed
    the quiet check): the rates of the user's own commands from next_latency's build (``textsel embed``: static
    vectors and the HNSW index; ``textsel index``: the neighbour table), the full-scan scoring rate from
    seals_scale's All rounds; N / (rate x nodes) each, the index taken as linear in its shard (a lower bound: it
    grows as n log n), a SEALS round independent of N."""
    size = scale["sizes"][-1]
    n = latency["n_docs"]
    embed_rate = n / latency["steps"]["embed"]["wall_s"]
    table_rate = n / latency["steps"]["index"]["wall_s"]
    all_rounds = [r["select_s"] for entry in size["concepts"] for run in entry["all"] for r in run["rounds"]]
    seals_rounds = [r["total_s"] for entry in size["concepts"] for run in entry["seals"] for r in run["rounds"]]
    score_rate = size["n_docs"] / sorted(all_rounds)[len(all_rounds) // 2]
    seals_round = sorted(seals_rounds)[len(seals_rounds) // 2]

    def hours(seconds: float) -> str:
        if seconds < 60:
            return f"{seconds:.1f} s"
        return f"{seconds / 3600:,.1f} h" if seconds >= 3600 else f"{seconds / 60:,.1f} min"

    lines = [f"Per node, measured at {n:,} sentences: `textsel embed` (static vectors and HNSW index) {embed_rate:,.0f}"
             f" texts/s, `textsel index` (neighbour table) {table_rate:,.0f} texts/s, full-scan scoring "
             f"{score_rate:,.0f} texts/s; a SEALS round {seals_round:.2f} s with every cost counted (fresh file -> "
             f"first selection on one node: {latency['fresh_to_first_selection_s']:,.0f} s).", "",
             "| texts | Ray nodes | static vectors + index (shard per node) | neighbour table | one full scan | "
             "SEALS round |", "|---|---|---|---|---|---|"]
    for total in (10_000_000, 100_000_000):
        for nodes in (1, 10, 100):
            lines.append(f"| {total / 1e6:,.0f}M | {nodes} | {hours(total / (embed_rate * nodes))} | "
                         f"{hours(total / (table_rate * nodes))} | {hours(total / (score_rate * nodes))} | "
                         f"{seals_round:.2f} s |")
    return "\n".join(lines)


def refused(*_documents: dict) -> str:
    """The region of files that were not quotable when it was written: once they are, it needs a renderer."""
    raise NotImplementedError("this region's results files are quotable now: give it a renderer in "
                              "benchmarks/report.py (REGIONS)")


# The real million (issue 22): review_sentences at 1.1M, on a quiet machine with 2 cores.
LATENCY_1M = "benchmarks/results/next_latency_review_sentences.json"
LATENCY_1M_COMMAND = ("HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/next_latency.py --n-docs 1100664 --workdir "
                      "/data/nl --out " + LATENCY_1M)
LATENCY_1M_STATIC = "benchmarks/results/next_latency_review_sentences_static_features.json"
LATENCY_1M_STATIC_BUILD = "benchmarks/results/next_latency_review_sentences_static_build.json"
LATENCY_1M_STATIC_BUILD_COMMAND = ("HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/next_latency.py --phase build "
                                   "--features static --n-docs 1100664 --workdir /data/nl_static --out "
                                   + LATENCY_1M_STATIC_BUILD)
LATENCY_1M_EXACT_BUILD = "benchmarks/results/next_latency_review_sentences_exact_build.json"
LATENCY_1M_EXACT_BUILD_COMMAND = ("HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/next_latency.py --phase build "
                                  "--backend exact --n-docs 1100664 --workdir /data/nl_exact --out "
                                  + LATENCY_1M_EXACT_BUILD)
LATENCY_1M_STATIC_COMMAND = ("HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/next_latency.py --phase run --n-docs "
                             "1100664 --workdir /data/nl --rounds 15 --features static --modes seals,auto,all --out "
                             + LATENCY_1M_STATIC)
SEALS_1M = "benchmarks/results/seals_scale_review_sentences.json"
SEALS_1M_COMMAND = ("HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/seals_scale.py --sentences 1100664 --cache-dir "
                    "/data/seals_scale --from-build /data/nl/n1100664 --rounds 21 --out " + SEALS_1M)

SEALS_1M_K300 = "benchmarks/results/seals_scale_review_sentences_k300.json"
SEALS_1M_K300_COMMAND = SEALS_1M_COMMAND.replace("--rounds 21", "--rounds 21 --k 300 --seeds 0,1,2,3,4,5,6,7,8,9") \
    .replace(SEALS_1M, SEALS_1M_K300)

STOPPING_SMALL = "benchmarks/results/stopping_small.json"
STOPPING_SMALL_COMMAND = ("OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stopping.py --seeds 35 --cells small "
                          "--small-cells 'amazon cell_phones_service@1%,hotel_tips@3%,hotel_tips@5%' "
                          f"--strategies most-likely-positive --designs uniform --no-old-rule --out {STOPPING_SMALL}")

STOPPING_ENTROPY = "benchmarks/results/stopping_small_entropy.json"
STOPPING_ENTROPY_COMMAND = STOPPING_SMALL_COMMAND.replace("--seeds 35", "--seeds 5") \
    .replace("most-likely-positive", "entropy").replace(STOPPING_SMALL, STOPPING_ENTROPY)


def large_stopping_region(name: str, rate: float, hint_fraction: float | None = 0.1) -> Region:
    """The stopping table of one prevalence in pools of 100,000 texts, from the file ``benchmarks/results/<name>``;
    ``hint_fraction``: the hint it was measured with (0.1 before the fitted 0.05; None: the default)."""
    path = f"benchmarks/results/{name}"
    hint = f"--hint-fraction {hint_fraction} " if hint_fraction is not None else ""
    return Region((path,), stopping_cells,
                  command=f"OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stopping.py --seeds 5 --cells large "
                          f"--large-rates {rate} --strategies most-likely-positive --designs uniform --no-old-rule "
                          f"{hint}--out {path}")


REGIONS: dict[str, Region] = {
    "embed_throughput": Region(("benchmarks/results/embed_throughput.json",), embed_summary, timing=True),
    "embed_throughput.table": Region(("benchmarks/results/embed_throughput.json",), embed_table, timing=True),
    "embed_throughput.cost": Region(("benchmarks/results/embed_throughput.json",), embed_cost, timing=True),
    "static_first_pass": Region(("benchmarks/results/static_first_pass.json",), static_first_pass, timing=True),
    "index_recall": Region(("benchmarks/results/index_recall.json",), index_recall),
    "score_ray": Region(("benchmarks/results/score_ray.json",), score_ray, timing=True),
    "seals_vs_all": Region(("benchmarks/results/seals_vs_all.json",), seals_vs_all),
    "seals_scale": Region((SEALS_1M,), seals_scale_line, timing=True, command=SEALS_1M_COMMAND),
    "next_latency": Region((LATENCY_1M, LATENCY_1M_STATIC, LATENCY_1M_STATIC_BUILD, LATENCY_1M_EXACT_BUILD),
                           next_latency_line, timing=True),
    "scale.fresh_to_first_selection": Region((LATENCY_1M,), fresh_to_first_selection, timing=True,
                                             command=LATENCY_1M_COMMAND),
    "scale.fresh_to_first_selection_exact": Region((LATENCY_1M_EXACT_BUILD,), fresh_to_first_selection, timing=True,
                                                   command=LATENCY_1M_EXACT_BUILD_COMMAND),
    "scale.fresh_to_first_selection_static": Region((LATENCY_1M_STATIC_BUILD,), fresh_to_first_selection,
                                                    timing=True, command=LATENCY_1M_STATIC_BUILD_COMMAND),
    "scale.next_commands": Region((LATENCY_1M,), next_commands, timing=True, command=LATENCY_1M_COMMAND),
    "scale.next_commands_static": Region((LATENCY_1M_STATIC,), next_commands, timing=True,
                                         command=LATENCY_1M_STATIC_COMMAND),
    "scale.static_features": Region(("benchmarks/results/static_features.json",), static_features,
                                    command="HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/static_features.py --out "
                                            "benchmarks/results/static_features.json"),
    "scale.seals_all_costs": Region((SEALS_1M,), seals_all_costs, timing=True, command=SEALS_1M_COMMAND),
    "scale.seals_all_costs_k300": Region((SEALS_1M_K300,), seals_all_costs, timing=True,
                                         command=SEALS_1M_K300_COMMAND),
    "scale.ray_projection": Region((LATENCY_1M, SEALS_1M), ray_projection, timing=True,
                                   command=f"{LATENCY_1M_COMMAND}; {SEALS_1M_COMMAND}"),
    "stopping": Region((STOPPING_SMALL,), stopping_cells, command=STOPPING_SMALL_COMMAND),
    "stopping.line": Region((STOPPING_SMALL,), stopping_line, command=STOPPING_SMALL_COMMAND),
    "stopping.entropy": Region((STOPPING_ENTROPY,), stopping_cells, command=STOPPING_ENTROPY_COMMAND),
    "stopping.designs": Region(("benchmarks/results/stopping_most_likely_positive.json",), stopping_cells,
                               command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stopping.py --seeds 5 --cells "
                                       "small --strategies most-likely-positive --designs uniform,stratified "
                                       "--no-old-rule --hint-fraction 0.1 --out "
                                       "benchmarks/results/stopping_most_likely_positive.json"),
    "stopping.hint_fit": Region(("benchmarks/results/stopping_hint_fit.json",), stopping_hint_fit,
                                command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/stopping_hint_fit.py --seeds 4 "
                                        "--out benchmarks/results/stopping_hint_fit.json"),
    "stopping.hint_fit.line": Region(("benchmarks/results/stopping_hint_fit.json",), stopping_hint_fit_line),
    "stopping.large": large_stopping_region("stopping_large.json", 0.01),
    "stopping.large_3pct": large_stopping_region("stopping_large_3pct.json", 0.03),
    "stopping.large_5pct": large_stopping_region("stopping_large_5pct.json", 0.05),
    "stopping.large_fitted_hint": large_stopping_region("stopping_large_1pct_hint005.json", 0.01, None),
    "diagnose_validation": Region(("benchmarks/results/diagnose_validation.json",
                                   "benchmarks/results/diagnose_thresholds.json"), diagnose_validation),
    "diagnose_validation.line": Region(("benchmarks/results/diagnose_validation.json",
                                        "benchmarks/results/diagnose_thresholds.json"), diagnose_validation_line),
    "svp_amazon": Region(("recipes/results/svp_amazon_blitzer_neg25.json",
                          "recipes/results/svp_amazon_blitzer_neg25_selection.json"), svp_amazon, timing=True),
    "svp_proxy_settings": Region(("benchmarks/results/svp_proxy_settings_amazon_blitzer_neg25.json",
                                  "benchmarks/results/svp_proxy_settings_amazon_blitzer_neg25_target.json"),
                                 svp_proxy_settings),
    "svp_learners": Region(("benchmarks/results/svp_learners_amazon_blitzer_neg25.json",), svp_learners,
                           timing=True, command="nice -n 10 .venv/bin/python benchmarks/svp_learners.py "
                                                "--seeds 0,1,2,3,4"),
    "svp_learners.multidomain": Region(("benchmarks/results/svp_learners_amazon_multidomain_neg25.json",), svp_learners,
                                       timing=True,
                                       command="nice -n 10 .venv/bin/python benchmarks/svp_learners.py --dataset "
                                               "amazon_multidomain --seeds 0,1,2,3,4"),
    "svp_learners.vdcnn9": Region(("benchmarks/results/svp_learners_amazon_blitzer_neg50_vdcnn9.json",),
                                  svp_learners, timing=True,
                                  command="nice -n 10 .venv/bin/python benchmarks/svp_learners.py --seeds 0 --target "
                                          "vdcnn9 --negative-rate 0.5 --pool 6000 --initial 2000 --round 2000 "
                                          "--vdcnn-epochs 6 --vdcnn-batch 32"),
    "screening_tune": Region(("benchmarks/results/screening_tune.json",), screening_tune,
                             command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/screening_tune.py --seeds 5 "
                                     "--candidates dense-b20,lexical-b20,relevance-b5,relevance-b10,relevance-b20 "
                                     "--out benchmarks/results/screening_tune.json"),
    "screening": Region(("benchmarks/results/screening.json",), screening,
                        command="OMP_NUM_THREADS=1 .venv/bin/python benchmarks/screening.py --seeds 5 --stop-recall "
                                "0.95 --methods textsel,textsel-dense,textsel-lexical,asreview "
                                "--out benchmarks/results/screening.json"),
    "amazon_reviews.seals": Region(("recipes/results/amazon_reviews.json",), recipe_seals),
    "amazon_reviews_k10.seals": Region(("recipes/results/amazon_reviews_k10.json",), recipe_seals),
    "index": Region((), results_index),
    "tv_spoilers": Region(("recipes/results/tv_spoilers.json",), spoiler_tables),
    "tv_spoilers_k10": Region(("recipes/results/tv_spoilers_k10.json",),
                              lambda result: spoiler_tables(result, diagnostic=False)),
    "amazon_reviews.svp": Region(("recipes/results/amazon_reviews.json",), refused, timing=True),
}


def render(name: str, repo: Path = REPO, regions: dict[str, Region] = REGIONS) -> str:
    """The text of region ``name``, from its results files only (or why it quotes none)."""
    region = regions[name]
    documents, reasons = [], []
    for source in region.sources:
        path = repo / source
        if not path.exists():
            command = f": `{region.command}`" if region.command else ""
            return f"*Not run yet: `{source}` does not exist{command}.*"
        document = json.loads(path.read_text(encoding="utf-8"))
        why = refusal(source, document, timing=region.timing)
        if why:
            reasons.append(f"`{source}` {why}")
        documents.append(document)
    if reasons:
        return f"*Not quoted: {'; '.join(reasons)}; awaits a quiet rerun.*"
    return region.render(*documents)


def rewrite(text: str, repo: Path = REPO, regions: dict[str, Region] = REGIONS) -> str:
    """``text`` with every region regenerated; an unknown or unclosed region raises ValueError."""
    names = OPENING.findall(text)
    closed = [match.group("name") for match in REGION.finditer(text)]
    if names != closed:
        raise ValueError(f"unclosed results region(s): {sorted(set(names) - set(closed))}")
    unknown = sorted(set(names) - set(regions))
    if unknown:
        raise ValueError(f"unknown results region(s): {unknown} (known: {sorted(regions)})")

    def replace(match: re.Match) -> str:
        block = match.group("body").startswith("\n")
        body = render(match.group("name"), repo, regions)
        body = f"\n{body}\n" if block else body
        return f"<!-- results:{match.group('name')} -->{body}<!-- /results:{match.group('name')} -->"

    return REGION.sub(replace, text)


def documents(repo: Path = REPO) -> list[Path]:
    return sorted({path for pattern in DOCS for path in repo.glob(pattern)})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a region is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        try:
            new = rewrite(text)
        except ValueError as error:
            print(f"{path.relative_to(REPO)}: {error}", file=sys.stderr)
            return 2
        if new != text:
            stale.append(str(path.relative_to(REPO)))
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date (run `python -m benchmarks.report`): " + ", ".join(stale), file=sys.stderr)
        return 1
    print(("rewrote: " + ", ".join(stale)) if stale and not args.check else "all results regions are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
