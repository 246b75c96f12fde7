"""textsel: find rare classes in large text collections with few labels and little compute.

Data flows one way: pool -> embeddings -> index -> candidate pool -> strategy -> labels -> model.
Heavy libraries (torch, sentence-transformers, fastText) load on first use, not on ``import textsel``;
the SVP target models live in ``textsel.models``.
"""

import importlib

# Public names -> the module that defines them. They are imported on first use (PEP 562), so a command that needs
# only the project store does not pay for scipy, scikit-learn or torch on start-up.
_EXPORTS = {
    "AllCandidates": "candidates", "RandomCandidates": "candidates", "SEALSCandidates": "candidates",
    "make_candidate_pool": "candidates", "Pool": "data", "load_amazon_fasttext": "data",
    "load_amazon_polarity_hf": "data", "load_amazon_zhang_csv": "data", "load_goodreads_spoilers": "data",
    "load_mcauley_jsonl": "data", "load_pool": "data", "Diagnosis": "diagnose", "diagnose": "diagnose",
    "Embedder": "embed", "embed_pool": "embed", "load_embeddings": "embed", "TextselError": "errors",
    "ExactIndex": "index", "HNSWIndex": "index", "build_index": "index", "load_index": "index",
    "LogisticLearner": "learner", "LEARNERS": "learner", "make_learner": "learner", "register_learner": "learner",
    "Project": "project", "init_project": "project", "FastTextProxy": "proxy",
    "RoundEngine": "rounds", "SelectionResult": "rounds", "select_batch": "rounds", "run_simulation": "simulate",
    "simulate": "simulate", "STRATEGIES": "strategies",
    "register_strategy": "strategies", "select_active": "svp", "select_coreset": "svp",
}


def __getattr__(name: str):  # noqa: ANN202 - PEP 562 module attribute hook
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"textsel.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'textsel' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__version__ = "0.1.0"

__all__ = [
    "LEARNERS", "STRATEGIES", "AllCandidates", "Diagnosis", "Embedder", "ExactIndex", "FastTextProxy", "HNSWIndex",
    "LogisticLearner", "Pool", "Project", "RandomCandidates", "RoundEngine", "SEALSCandidates", "SelectionResult",
    "TextselError", "build_index", "diagnose", "embed_pool", "init_project", "load_amazon_fasttext",
    "load_amazon_polarity_hf", "load_amazon_zhang_csv", "load_embeddings", "load_goodreads_spoilers", "load_index",
    "load_mcauley_jsonl", "load_pool", "make_candidate_pool", "make_learner", "register_learner",
    "register_strategy", "run_simulation", "select_active", "select_batch",
    "select_coreset", "simulate", "__version__",
]
