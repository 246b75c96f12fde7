"""Encoder dtype and device options without loading a model: `auto` resolution, cache keys, validation, and the
progress the embedding cache reports (true position after a resume)."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pytest
from conftest import fake_embeddings

import textsel.embed as embed_module
from textsel.data import Pool
from textsel.embed import Embedder, embed_pool, embedding_cache_folder, resolve_encoder_dtype, saved_rows
from textsel.errors import ConfigError

POOL = Pool(ids=np.arange(23), texts=[f"review number {i}" for i in range(23)], source="tiny.csv")


@pytest.mark.parametrize(("flags", "expected"), [
    ({"avx2", "avx512f", "avx512_bf16"}, "bfloat16"),
    ({"avx2", "amx_bf16", "amx_tile"}, "bfloat16"),
    ({"avx2", "avx512f", "avx512_vnni"}, "float32"),
    (set(), "float32"),
])
def test_auto_picks_bfloat16_only_on_cpus_with_bf16_hardware(flags, expected):
    assert resolve_encoder_dtype("auto", "cpu", flags) == expected


def test_auto_is_float32_on_mps_and_explicit_dtypes_are_kept():
    assert resolve_encoder_dtype("auto", "mps", {"avx512_bf16"}) == "float32"
    for dtype in ("float32", "bfloat16", "float16"):
        assert resolve_encoder_dtype(dtype, "cpu", set()) == dtype


def test_bad_dtype_or_device_is_a_config_error_naming_the_value():
    with pytest.raises(ConfigError, match="'dtype' parameter of Embedder.*'int8'"):
        Embedder(dtype="int8", device="cpu").check_settings()
    with pytest.raises(ConfigError, match="'device' parameter of Embedder.*'tpu'"):
        Embedder(device="tpu").check_settings()


def test_cache_folders_differ_by_encoder_dtype_and_device_class(tmp_path):
    folders = {dtype: embedding_cache_folder(POOL, Embedder(dtype=dtype, device="cpu"), tmp_path)
               for dtype in ("float32", "bfloat16", "float16")}
    assert len(set(folders.values())) == 3
    auto = embedding_cache_folder(POOL, Embedder(dtype="auto", device="cpu"), tmp_path)
    assert auto == folders[Embedder(device="cpu").resolved_dtype]  # the key holds the dtype used, not "auto"
    assert embedding_cache_folder(POOL, Embedder(dtype="float32", device="cpu:0"), tmp_path) == folders["float32"]


class FakeEncoder:
    name = "fake"

    def __init__(self, interrupt_on_call: int | None = None) -> None:
        self.calls = 0
        self.interrupt_on_call = interrupt_on_call

    def encode(self, texts):
        self.calls += 1
        if self.calls == self.interrupt_on_call:
            raise KeyboardInterrupt
        return fake_embeddings(list(texts), 8)


@pytest.fixture
def bars(monkeypatch):
    """Record every progress bar embed_pool opens: (total, completed at start, advances)."""
    opened = []

    @contextmanager
    def recording_bar(description, total, *, show, completed=0):
        advances = []
        opened.append((total, completed, advances))
        yield advances.append

    monkeypatch.setattr(embed_module, "progress_bar", recording_bar)
    return opened


def test_a_resumed_run_shows_its_true_position(tmp_path, bars):
    with pytest.raises(KeyboardInterrupt):
        embed_pool(POOL, FakeEncoder(interrupt_on_call=3), cache_dir=tmp_path, chunk_size=5)
    folder = embedding_cache_folder(POOL, FakeEncoder(), tmp_path)
    assert saved_rows(folder) == (10, 23)
    embed_pool(POOL, FakeEncoder(), cache_dir=tmp_path, chunk_size=5)
    (first_total, first_start, _), (total, start, advances) = bars
    assert (first_total, first_start) == (23, 0)
    assert (total, start) == (23, 10) and advances == [5, 5, 3]
    assert saved_rows(folder) == (23, 23)


def test_saved_rows_of_an_empty_folder_is_zero(tmp_path):
    assert saved_rows(tmp_path) == (0, None)
