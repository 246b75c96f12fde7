"""textsel: find rare classes in large text collections with few labels and little compute.

Data flows one way: pool -> embeddings -> index -> candidate pool -> strategy -> labels -> model.
Heavy libraries (torch, sentence-transformers, fastText) load on first use, not on ``import textsel``;
the SVP target models live in ``textsel.models``.
"""

from textsel.candidates import AllCandidates, RandomCandidates, SEALSCandidates, make_candidate_pool
from textsel.data import (
                          Pool,
                          load_amazon_fasttext,
                          load_amazon_polarity_hf,
                          load_amazon_zhang_csv,
                          load_goodreads_spoilers,
                          load_mcauley_jsonl,
                          load_pool,
)
from textsel.diagnose import Diagnosis, diagnose
from textsel.embed import Embedder, embed_pool, load_embeddings
from textsel.errors import TextselError
from textsel.index import ExactIndex, HNSWIndex, build_index, load_index
from textsel.learner import LEARNERS, LogisticLearner, make_learner, register_learner
from textsel.project import Project, init_project
from textsel.proxy import FastTextProxy
from textsel.rounds import RoundEngine, SelectionResult, select_batch
from textsel.simulate import run_simulation, simulate
from textsel.strategies import STRATEGIES, register_strategy
from textsel.svp import select_active, select_coreset

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
