"""Why textsel.proxy calls fastText's binding (``model.f.predict``) instead of its public ``predict`` (issue 20):
with the pinned fasttext-wheel 0.9.2 on numpy 2, the public call on one text raises and the call on a list gives
every class the top probability. This test fails once a release fixes both: then switch the proxy to the public
API."""

from __future__ import annotations

import numpy as np
import pytest

from textsel.proxy import FastTextProxy

TEXTS = [("bad broken zipper" if i % 2 else "good fine fabric") + f" {i}" for i in range(40)]
LABELS = ["neg" if i % 2 else "pos" for i in range(40)]


def test_the_public_predict_is_still_unusable_and_the_proxys_probabilities_are_right():
    proxy = FastTextProxy(threads=1, bucket=1000, epoch=20).fit(TEXTS, LABELS)
    model = proxy.model_
    single_breaks = True
    try:
        model.predict("bad broken zipper", k=2)
        single_breaks = False
    except ValueError:
        pass
    _, listed = model.predict(["bad broken zipper"], k=2)
    listed_wrong = np.allclose(listed[0][0], listed[0][1]) and listed[0].sum() > 1.0 + 1e-6
    if np.lib.NumpyVersion(np.__version__) < "2.0.0":
        pytest.skip("the public predict's failure on one text is numpy 2's")
    assert single_breaks or listed_wrong, "fastText's public predict works now: use it in textsel.proxy"
    probabilities = proxy.predict_proba(["bad broken zipper"])
    assert np.isclose(probabilities.sum(), 1.0) and probabilities[0].max() > probabilities[0].min()
