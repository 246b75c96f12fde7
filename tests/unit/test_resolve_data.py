"""textsel.data resolves data set names through $TEXTSEL_DATA (default ../shared/data), files and folders as
given, and parses test-split rules."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from textsel.data import resolve_data, split_test
from textsel.errors import ConfigError, DataError


def test_names_files_and_folders(tmp_path, monkeypatch):
    (tmp_path / "sets" / "reviews").mkdir(parents=True)
    (tmp_path / "sets" / "reviews" / "data.parquet").write_bytes(b"")
    monkeypatch.setenv("TEXTSEL_DATA", str(tmp_path / "sets"))
    assert resolve_data("reviews") == tmp_path / "sets" / "reviews" / "data.parquet"
    assert resolve_data(tmp_path / "sets" / "reviews") == tmp_path / "sets" / "reviews" / "data.parquet"
    with pytest.raises(DataError, match="no such data file"):
        resolve_data("not-a-data-set")


def test_default_is_shared_data_beside_the_current_folder(tmp_path, monkeypatch):
    (tmp_path / "shared" / "data" / "spam").mkdir(parents=True)
    (tmp_path / "shared" / "data" / "spam" / "data.parquet").write_bytes(b"")
    (tmp_path / "checkout").mkdir()
    monkeypatch.delenv("TEXTSEL_DATA", raising=False)
    monkeypatch.chdir(tmp_path / "checkout")
    assert resolve_data("spam").resolve() == (tmp_path / "shared" / "data" / "spam" / "data.parquet").resolve()


def test_split_test_takes_a_column_rule_a_fraction_or_the_split_column():
    columns = {"split": np.array(["train", "test", "train", "test", "train"]), "label": np.arange(5)}
    mask, rule = split_test(columns, 5, None, seed=0)
    assert rule == "split=test" and mask.tolist() == [False, True, False, True, False]
    mask, rule = split_test(columns, 5, "split=train", seed=0)
    assert rule == "split=train" and mask.sum() == 3
    mask, rule = split_test({"label": np.arange(10)}, 10, None, seed=0)
    assert rule == "0.2" and mask.sum() == 2
    again, _ = split_test({"label": np.arange(10)}, 10, None, seed=0)
    assert (again == mask).all()


def test_split_test_rejects_bad_rules_without_naming_cli_flags():
    columns = {"split": np.array(["train", "test"])}
    with pytest.raises(DataError, match="no column 'fold'"):
        split_test(columns, 2, "fold=1", seed=0)
    with pytest.raises(DataError, match="no row has split == 'dev'"):
        split_test(columns, 2, "split=dev", seed=0)
    with pytest.raises(ConfigError, match="fraction in") as error:
        split_test(columns, 2, "1.5", seed=0)
    assert "--" not in str(error.value)


def test_simulate_module_uses_the_data_module_functions():
    simulate_module = importlib.import_module("textsel.simulate")
    experiments_module = importlib.import_module("textsel.svp_experiments")
    assert simulate_module.resolve_data is resolve_data and experiments_module.split_test is split_test
