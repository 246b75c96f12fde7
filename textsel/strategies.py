"""Selection strategies: score candidates from a model's class probabilities, then keep the top b.

Scores are "higher = select first". Candidates and results are document ids; ties break by the smaller id,
so a selection is a pure, deterministic function of (scores, candidates, k).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from textsel._setops import unique
from textsel.errors import ConfigError, DataError, check_param

_CHUNK = 65_536


def _check_probabilities(probabilities: np.ndarray, min_columns: int = 1) -> np.ndarray:
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[1] < min_columns:
        raise DataError(f"expected class probabilities of shape (n, n_classes >= {min_columns}); "
                        f"got shape {probabilities.shape}")
    return probabilities


def least_confidence_scores(probabilities: np.ndarray) -> np.ndarray:
    """1 - max class probability: how unsure the model is of its own best guess."""
    return 1.0 - _check_probabilities(probabilities).max(axis=1)


def entropy_scores(probabilities: np.ndarray) -> np.ndarray:
    """Shannon entropy of the predicted distribution (MaxEnt)."""
    probabilities = _check_probabilities(probabilities)
    logs = np.log(np.clip(probabilities, 1e-12, None))
    return -(probabilities * logs).sum(axis=1)


def margin_scores(probabilities: np.ndarray) -> np.ndarray:
    """-(p1 - p2) for the two most likely classes: a small margin is a high score."""
    probabilities = _check_probabilities(probabilities, min_columns=2)
    top_two = np.partition(probabilities, -2, axis=1)[:, -2:]
    return -(top_two[:, 1] - top_two[:, 0])


def most_likely_positive_scores(probabilities: np.ndarray, positive_column: int = 1) -> np.ndarray:
    """Probability of the positive class (MLP, the active-search strategy)."""
    probabilities = _check_probabilities(probabilities)
    check_param("most_likely_positive_scores", "positive_column", positive_column,
                isinstance(positive_column, int | np.integer) and 0 <= positive_column < probabilities.shape[1],
                f"a column index in [0, {probabilities.shape[1] - 1}]")
    return probabilities[:, positive_column].copy()


def neighbour_density(index, vectors: np.ndarray, ids: np.ndarray, n_neighbors: int = 10,
                      ef: int | None = None) -> np.ndarray:
    """Mean similarity of each id to its ``n_neighbors`` nearest other documents, through the index.

    Queries go in chunks, so memory stays O(chunk x n_neighbors), never O(N^2). ``ef`` is the HNSW beam
    width for these queries (default max(40, 4 x (n_neighbors + 1))): an average over ten neighbours
    needs a far narrower search than the candidate pool's k=100, and this makes density ~4x cheaper.
    """
    check_param("neighbour_density", "n_neighbors", n_neighbors,
                isinstance(n_neighbors, int | np.integer) and n_neighbors >= 1, "an int >= 1")
    ids = np.asarray(ids, dtype=np.int64)
    density = np.zeros(len(ids), dtype=np.float64)
    ef = ef if ef is not None else max(40, 4 * (n_neighbors + 1))
    for start in range(0, len(ids), _CHUNK):
        chunk = slice(start, start + _CHUNK)
        found, sims = index.search(np.asarray(vectors[chunk], dtype=np.float32), n_neighbors + 1, ef=ef)
        keep = (found != ids[chunk, None]) & (found >= 0)
        # Drop the query itself; keep the first n_neighbors others.
        keep &= np.cumsum(keep, axis=1) <= n_neighbors
        counts = np.maximum(keep.sum(axis=1), 1)
        density[chunk] = np.where(keep, sims, 0.0).sum(axis=1) / counts
    return density


def information_density_scores(probabilities: np.ndarray, candidates: np.ndarray | None = None, *,
                               density: np.ndarray | None = None, index=None, vectors: np.ndarray | None = None,
                               n_neighbors: int = 10, beta: float = 1.0) -> np.ndarray:
    """Entropy x (mean similarity to kNN neighbours) ** beta (Settles and Craven, 2008).

    Pass a precomputed ``density`` (see :func:`neighbour_density`), or ``index`` plus the candidates' ``vectors``
    to compute it through the index.
    """
    uncertainty = entropy_scores(probabilities)
    if density is None:
        if index is None or vectors is None or candidates is None:
            raise ConfigError("information_density_scores needs either 'density' or 'index', 'vectors' and "
                              "'candidates'.")
        density = neighbour_density(index, vectors, candidates, n_neighbors)
    density = np.asarray(density, dtype=np.float64)
    if density.shape != uncertainty.shape:
        raise DataError(f"density has shape {density.shape}, expected {uncertainty.shape}")
    return uncertainty * np.clip(density, 0.0, None) ** beta


def _top_k_positions(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores, best first, ties by smaller candidate id; O(n) plus O(k log k)."""
    n = len(scores)
    if k < n:
        kth = np.partition(scores, n - k)[n - k]
        above = np.flatnonzero(scores > kth)
        tied = np.flatnonzero(scores == kth)
        tied = tied[np.argsort(candidates[tied], kind="stable")[:k - len(above)]]
        chosen = np.concatenate([above, tied])
    else:
        chosen = np.arange(n)
    order = np.lexsort((candidates[chosen], -scores[chosen]))
    return chosen[order]


def _check_selection(scores: np.ndarray | None, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    candidates = np.asarray(candidates, dtype=np.int64)
    check_param("top_k", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != candidates.shape:
            raise DataError(f"{len(scores)} scores for {len(candidates)} candidates")
        if not np.isfinite(scores).all():
            raise DataError(f"score of candidate {int(candidates[~np.isfinite(scores)][0])} is NaN or inf")
    return scores, candidates


def top_k(scores: np.ndarray, candidates: np.ndarray, k: int) -> np.ndarray:
    """Ids of the k highest-scoring candidates, best first; ties go to the smaller id."""
    scores, candidates = _check_selection(scores, candidates, k)
    return candidates[_top_k_positions(scores, candidates, k)]


def random_selection(candidates: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k candidates uniformly at random without replacement (all of them when fewer)."""
    _, candidates = _check_selection(None, candidates, k)
    return rng.choice(np.sort(candidates), size=min(k, len(candidates)), replace=False)


def _min_sq_distances(features: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every row to its nearest center, in chunks (O(n) memory)."""
    out = np.full(len(features), np.inf)
    center_norms = (centers * centers).sum(axis=1)
    for start in range(0, len(centers), 1024):
        block, block_norms = centers[start:start + 1024], center_norms[start:start + 1024]
        for row in range(0, len(features), 8192):
            part = features[row:row + 8192]
            dist = (part * part).sum(axis=1)[:, None] - 2 * part @ block.T + block_norms[None, :]
            np.minimum(out[row:row + 8192], dist.min(axis=1), out=out[row:row + 8192])
    return np.maximum(out, 0.0)


def k_center_greedy(features: np.ndarray, k: int, *, initial: np.ndarray | None = None) -> np.ndarray:
    """Greedy farthest-first traversal (Sener and Savarese, 2018): k row positions that cover ``features``.

    ``initial`` are positions already chosen (labeled); each step takes the row farthest from every chosen
    one. Memory is O(n): one running min-distance vector. Ties go to the lower position.
    """
    features = np.asarray(features, dtype=np.float64)
    check_param("k_center_greedy", "k", k, isinstance(k, int | np.integer) and k >= 1, "an int >= 1")
    initial = np.zeros(0, dtype=np.int64) if initial is None else np.asarray(initial, dtype=np.int64)
    available = len(features) - len(unique(initial))
    if available <= 0:
        return np.zeros(0, dtype=np.int64)
    if len(initial):
        min_dist = _min_sq_distances(features, features[initial])
        min_dist[initial] = -1.0
    else:
        min_dist = np.full(len(features), np.inf)
    norms = np.einsum("ij,ij->i", features, features)
    chosen = []
    for _ in range(min(k, available)):
        best = int(np.argmax(min_dist))
        chosen.append(best)
        distance = np.maximum(norms - 2 * (features @ features[best]) + norms[best], 0.0)
        np.minimum(min_dist, distance, out=min_dist)
        min_dist[chosen] = -1.0
    return np.asarray(chosen, dtype=np.int64)


# --- registry: every selection function takes (candidates, k) plus the keyword inputs it needs -------------

INPUTS = ("rng", "probabilities", "positive_column", "density", "features", "labeled_features")
"""What a selection loop can hand a strategy. ``rng`` always comes; the others only when the strategy needs them:
class probabilities of the candidates; which of their columns is the positive class; the candidates' information
density (through the kNN index); the candidates' and the labeled documents' feature vectors."""


@dataclass(frozen=True)
class Strategy:
    """A selection strategy: ``select(candidates, k, **inputs) -> (ids, scores or None)`` and what it needs.

    Calling the strategy calls ``select``. A loop provides exactly the inputs in ``needs`` (plus ``rng``), so a
    new strategy is one :func:`register_strategy` call and no change to the loop.
    """

    name: str
    select: Callable
    needs: frozenset[str]
    description: str = ""

    @property
    def needs_model(self) -> bool:
        """Whether the learner must be fitted before selecting (it reads class probabilities)."""
        return bool({"probabilities", "positive_column"} & self.needs)

    def __call__(self, candidates, k: int, **inputs):  # noqa: ANN204 - (ids, scores or None)
        return self.select(candidates, k, **inputs)


class _Registry(Mapping):
    """Canonical name -> Strategy; old names resolve through aliases (``"maxent" in STRATEGIES`` is true)."""

    def __init__(self) -> None:
        self._strategies: dict[str, Strategy] = {}
        self.aliases: dict[str, str] = {}

    def canonical(self, name: str) -> str | None:
        """The registered name ``name`` stands for (itself or through an alias), or None."""
        name = self.aliases.get(name, name)
        return name if name in self._strategies else None

    def __getitem__(self, name: str) -> Strategy:
        canonical = self.canonical(name) if isinstance(name, str) else None
        if canonical is None:
            raise KeyError(name)
        return self._strategies[canonical]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.canonical(name) is not None

    def __iter__(self):  # noqa: ANN204
        return iter(self._strategies)

    def __len__(self) -> int:
        return len(self._strategies)


STRATEGIES = _Registry()
"""Name -> :class:`Strategy`, iterating over canonical names; ``STRATEGIES.aliases`` maps old names to them."""


def register_strategy(name: str, select: Callable, *, needs: Iterable[str] = (), aliases: Iterable[str] = (),
                      description: str = "") -> Strategy:
    """Add (or replace) a strategy under ``name`` and its ``aliases``; ``needs`` names inputs from :data:`INPUTS`."""
    needs = frozenset(needs)
    unknown = sorted(needs - set(INPUTS))
    if unknown:
        raise ConfigError(f"strategy {name!r} needs unknown inputs {unknown}; inputs are {list(INPUTS)}")
    taken = [alias for alias in aliases if alias in STRATEGIES._strategies]
    if taken:
        raise ConfigError(f"the alias {taken[0]!r} of strategy {name!r} is already a strategy's name")
    strategy = Strategy(name, select, needs, description)
    STRATEGIES._strategies[name] = strategy
    STRATEGIES.aliases.update({alias: name for alias in aliases})
    return strategy


def get_strategy(name: str) -> Strategy:
    """Look a strategy up by name or old alias, or raise ConfigError listing the names."""
    if name not in STRATEGIES:
        raise ConfigError(f"The 'strategy' parameter must be one of {sorted(STRATEGIES)} (or an old name: "
                          f"{', '.join(sorted(STRATEGIES.aliases))}). Got {name!r}.")
    return STRATEGIES[name]


def canonical_strategy(name: str) -> str:
    """The registered name of a strategy given by name or alias (e.g. "maxent" -> "entropy")."""
    return get_strategy(name).name


def _rank(scores, candidates, k):
    scores, candidates = _check_selection(scores, candidates, k)
    positions = _top_k_positions(scores, candidates, k)
    return candidates[positions], scores[positions]


def _select_random(candidates, k, *, rng, **_):
    return random_selection(candidates, k, rng), None


def _select_by(score_fn: Callable[..., np.ndarray]) -> Callable:
    def select(candidates, k, *, probabilities, **_):
        return _rank(score_fn(probabilities), candidates, k)
    select.__doc__ = f"Top k candidates by {score_fn.__name__}."
    return select


def _select_most_likely_positive(candidates, k, *, probabilities, positive_column=1, **_):
    scores = most_likely_positive_scores(probabilities, positive_column)
    return _rank(scores, candidates, k)


def _select_information_density(candidates, k, *, probabilities, density, **_):
    scores = information_density_scores(probabilities, candidates, density=density)
    return _rank(scores, candidates, k)


def _select_k_center(candidates, k, *, features, labeled_features, **_):
    candidates = np.asarray(candidates, dtype=np.int64)
    stacked = np.vstack([np.asarray(labeled_features, dtype=np.float64), np.asarray(features, dtype=np.float64)])
    positions = k_center_greedy(stacked, k, initial=np.arange(len(labeled_features))) - len(labeled_features)
    return candidates[positions], None


register_strategy("random", _select_random, description="uniformly at random (the baseline)")
register_strategy("least-confidence", _select_by(least_confidence_scores), needs={"probabilities"},
                  description="lowest top-class probability")
register_strategy("margin", _select_by(margin_scores), needs={"probabilities"},
                  description="smallest gap between the two likeliest classes")
register_strategy("entropy", _select_by(entropy_scores), needs={"probabilities"}, aliases=("maxent",),
                  description="highest entropy of the predicted classes (MaxEnt)")
register_strategy("most-likely-positive", _select_most_likely_positive, needs={"probabilities", "positive_column"},
                  aliases=("mlp",), description="highest probability of the positive class (active search)")
register_strategy("information-density", _select_information_density, needs={"probabilities", "density"},
                  aliases=("id",), description="entropy weighted by the density of the kNN neighbourhood")
register_strategy("k-center", _select_k_center, needs={"features", "labeled_features"}, aliases=("kcenter",),
                  description="farthest from everything labeled (core-set, k-center greedy)")
