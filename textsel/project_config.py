"""The project config file ``textsel.toml``: read with tomllib, written by hand (the standard library has no
TOML writer), always through a temporary file and a rename."""

from __future__ import annotations

import json
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from textsel.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONFIG_NAME = "textsel.toml"
DB_NAME = "textsel.db"
LOCK_NAME = ".textsel.lock"
DEFAULT_MODEL = "all-MiniLM-L6-v2"
DEFAULT_LABELS = ("positive", "negative")
FEATURE_KINDS = ("dense", "lexical", "hybrid", "static")  # [features] kind: what the classifier reads
# (textsel.features); "static" only over a static first pass, whose vectors it reads


def default_features(goal: str, first_pass: str | None = None) -> str:
    """The features a new project gets when none are asked for: hybrid for the find-all goal (the embeddings and
    the TF-IDF, which the relevance-feedback learner reads: measured on the screening reviews by
    ``benchmarks/screening_tune.py``), dense for a classifier and over a static first pass (which has no TF-IDF of
    the whole pool)."""
    return "hybrid" if goal == "find-all" and not first_pass else "dense"
GOALS = ("find-all", "train-classifier")  # [rounds] goal: hunt every positive, or label for a classifier
FIRST_PASSES = (None, "static")  # [embeddings] first_pass: none (embed the whole pool) or static (textsel.first_pass)


@dataclass
class ProjectConfig:
    """Everything ``textsel.toml`` holds; the first class in ``labels`` is the rare positive class by default."""

    source: str
    text_col: str = "text"
    id_col: str | None = None
    label_col: str | None = None
    format: str | None = None
    dedupe: str | None = None  # "id" or "text": keep the first row of each (textsel.data._dedupe)
    labels: list[str] = field(default_factory=lambda: list(DEFAULT_LABELS))
    positive: str | None = None
    model: str = DEFAULT_MODEL
    max_seq_length: int = 256
    precomputed: str | None = None
    dtype: str = "auto"  # the encoder's dtype (textsel.embed.Embedder); "auto" picks bf16 where it pays
    device: str | None = None  # "cpu", "cuda", "mps"; None lets torch pick
    first_pass: str | None = None  # "static": SEALS over static vectors, the transformer on candidates only
    backend: str = "hnsw"
    k: int = 100
    features: str = "dense"  # absent from textsel.toml (projects made before [features]): the embeddings
    goal: str = "find-all"  # which strategy `next` uses by default (textsel.rounds.strategy_for_goal)

    def __post_init__(self) -> None:
        self.labels = [str(label) for label in self.labels]
        self.positive = self.positive or (self.labels[0] if self.labels else None)
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise ConfigError(f"labels must be at least two distinct class names; got {self.labels}")
        for label in self.labels:
            check_label_name(label)
        if self.positive not in self.labels:
            raise ConfigError(f"the positive class {self.positive!r} is not one of the labels {self.labels}")
        if self.first_pass not in FIRST_PASSES:
            raise ConfigError(f"[embeddings] first_pass must be 'static' or absent; got {self.first_pass!r}")
        if self.first_pass and self.precomputed:
            raise ConfigError("a project with precomputed embeddings cannot use the static first pass: its vectors "
                              "are given for every text; drop one of the two")
        if self.dedupe not in (None, "id", "text"):
            raise ConfigError(f"[data] dedupe must be 'id', 'text' or absent; got {self.dedupe!r}")
        if self.features not in FEATURE_KINDS:
            raise ConfigError(f"[features] kind must be one of {list(FEATURE_KINDS)}; got {self.features!r}")
        if self.features in ("lexical", "hybrid") and self.first_pass:
            raise ConfigError(f"the static first pass reads transformer vectors of candidates only; the "
                              f"{self.features!r} features need the whole pool's TF-IDF. Use dense or static "
                              f"features there")
        if self.features == "static" and self.first_pass != "static":
            raise ConfigError("the 'static' features are the static first pass's vectors; set first_pass = "
                              "\"static\" in [embeddings], or use dense features")
        if self.goal not in GOALS:
            raise ConfigError(f"[rounds] goal must be one of {list(GOALS)}; got {self.goal!r}")
        if self.backend not in ("hnsw", "exact"):
            raise ConfigError(f"index backend must be 'hnsw' or 'exact'; got {self.backend!r}")

    _SECTIONS = {"data": ("source", "text_col", "id_col", "label_col", "format", "dedupe"),
                 "labels": ("labels", "positive"),
                 "embeddings": ("model", "max_seq_length", "precomputed", "dtype", "device", "first_pass"),
                 "index": ("backend", "k"),
                 "features": ("features",),
                 "rounds": ("goal",)}
    _TOML_NAMES = {"labels": "classes", "features": "kind"}  # attribute -> key in its section

    def to_toml(self, directory: str | Path | None = None) -> str:
        """Render by hand (the standard library reads TOML but does not write it). With the project ``directory``,
        local files (the data file, precomputed embeddings) are written relative to it (``./`` or ``../``), so a
        project copied together with its data works at any place (see :func:`portable_path`)."""
        lines = ["# textsel project configuration. Labels live in textsel.db; caches in cache/."]
        for section, keys in self._SECTIONS.items():
            lines.append(f"\n[{section}]")
            for key in keys:
                value = getattr(self, key)
                if key in _PATH_KEYS and value is not None and directory is not None:
                    value = portable_path(value, directory)
                if value is not None:
                    lines.append(f"{self._TOML_NAMES.get(key, key)} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_toml(cls, path: Path) -> ProjectConfig:
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from error
        values = {}
        for section, keys in cls._SECTIONS.items():
            table = document.get(section, {})
            for key in keys:
                name = cls._TOML_NAMES.get(key, key)
                if name in table:
                    values[key] = table[name]
                    if key in _PATH_KEYS and isinstance(values[key], str):
                        values[key] = resolve_portable(values[key], path.parent)
        if "source" not in values:
            raise ConfigError(f"{path} has no [data] source; recreate the project from its data file")
        return cls(**values)


_PATH_KEYS = ("source", "precomputed")
_RELATIVE = ("./", "../")


def portable_path(value: str, directory: str | Path) -> str:
    """An existing local file or folder as a path relative to the project ``directory``, starting ``./`` or
    ``../`` (so it is never taken for a data set name); anything else (a hub name, a missing path) unchanged."""
    import os

    if not Path(value).exists():
        return value
    relative = os.path.relpath(Path(value).resolve(), Path(directory).resolve())
    return relative if relative.startswith("..") else f"./{relative}"


def resolve_portable(value: str, directory: str | Path) -> str:
    """The absolute path of a ``./`` or ``../`` path written by :func:`portable_path`, relative to the project
    ``directory``; any other value unchanged."""
    if not value.startswith(_RELATIVE):
        return value
    import os

    return os.path.normpath(Path(directory).resolve() / value)


def check_label_name(label: str) -> None:
    """Raise ConfigError unless ``label`` is printable text without markup-like brackets.

    Labels are printed in every report and the labeler; a control character (an escape sequence) or ``[...]``
    (rich markup) in one would garble or break the terminal, so such names are refused before a project exists.
    """
    if not label.strip() or label != label.strip():
        raise ConfigError(f"label {label!r} must be a non-empty name without leading or trailing spaces")
    bad = next((char for char in label if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise ConfigError(f"label {label!r} contains the control character U+{ord(bad):04X}; use printable text")
    if "[" in label or "]" in label:
        raise ConfigError(f"label {label!r} contains a square bracket, which terminals read as markup; "
                          f"name the class without [ and ]")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid TOML basic string
