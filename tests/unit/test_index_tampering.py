"""A received project's HNSW graph is checked before hnswlib reads it (issue 19, case 3): link ids out of range,
oversized neighbour lists, a wrong entry point, a truncated file or labels that differ from the id file are one
DataError, even when the attacker re-computed every checksum in ``index.hnsw.json``. Each load runs in a child
process, so a graph that would crash hnswlib (SIGSEGV) fails the test instead of the test run."""

from __future__ import annotations

import json
import struct
import subprocess
import sys

import numpy as np
import pytest

from textsel._integrity import file_record
from textsel.index import HNSWIndex, _replace_sidecar, _settings_digest, load_index

HEADER = struct.Struct("<QQQQQQiIQQQdQ")
DIM, M, N = 8, 4, 400


@pytest.fixture
def saved(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(N, DIM)).astype(np.float32)
    index = HNSWIndex(M=M, ef_construction=50, num_threads=1)
    index.add(vectors, np.arange(1000, 1000 + N))
    index.mark_deleted(np.array([1003]))
    path = tmp_path / "index.hnsw"
    index.save(path)
    return path


def resign(path):
    """What a tamperer does: re-compute the checksums of every index file and of the settings."""
    sidecar = path.with_name(path.name + ".json")
    meta = json.loads(sidecar.read_text())
    meta["files"] = {name: file_record(path.with_name(name)) for name in meta["files"]}
    meta.pop("settings_sha256")
    _replace_sidecar(path, meta)
    assert json.loads(sidecar.read_text())["settings_sha256"] == _settings_digest(
        {k: v for k, v in json.loads(sidecar.read_text()).items() if k != "settings_sha256"})


def header(path):
    return list(HEADER.unpack_from(path.read_bytes(), 0))


def level0_row(path, element):
    fields = header(path)
    return HEADER.size + element * fields[3]


def patch(path, offset, data):
    raw = bytearray(path.read_bytes())
    raw[offset:offset + len(data)] = data
    path.write_bytes(bytes(raw))


def first_upper_list(path):
    """Offset of the first upper-level neighbour list in the file."""
    fields = header(path)
    raw = path.read_bytes()
    position = HEADER.size + fields[2] * fields[3]
    while True:
        (size,) = struct.unpack_from("<I", raw, position)
        if size:
            return position + 4
        position += 4


def tamper_link(path):
    patch(path, level0_row(path, 5) + 4, struct.pack("<I", 10**9))  # the first link of element 5


def tamper_count(path):
    patch(path, level0_row(path, 7), struct.pack("<H", 60000))  # far more links than fit


def tamper_upper_link(path):
    offset = first_upper_list(path)
    patch(path, offset, struct.pack("<H", 1))
    patch(path, offset + 4, struct.pack("<I", 3 * N))


def tamper_entry(path):
    fields = header(path)
    fields[7] = N + 5
    patch(path, 0, HEADER.pack(*fields))


def tamper_truncate(path):
    path.write_bytes(path.read_bytes()[:-9])


def tamper_label(path):
    fields = header(path)
    patch(path, level0_row(path, 2) + fields[4], struct.pack("<Q", 999_999))


def tamper_elements(path):
    fields = header(path)
    fields[2] = N * 1000
    patch(path, 0, HEADER.pack(*fields))


@pytest.mark.parametrize("tamper", [tamper_link, tamper_count, tamper_upper_link, tamper_entry, tamper_truncate,
                                    tamper_label, tamper_elements])
def test_a_tampered_graph_with_fresh_checksums_is_refused_not_read(saved, tamper):
    tamper(saved)
    resign(saved)
    script = ("import sys, numpy as np\nfrom textsel.index import load_index\nfrom textsel.errors import DataError\n"
              "try:\n    index = load_index(sys.argv[1])\n    index.search(np.ones((3, 8), np.float32), 10)\n"
              "except DataError as error:\n    print('refused:', error)\n    sys.exit(3)\n")
    done = subprocess.run([sys.executable, "-c", script, str(saved)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr)
    assert "not one hnswlib could read safely" in done.stdout and "rebuild the index" in done.stdout


def test_an_untouched_graph_still_loads_and_searches(saved):
    index = load_index(saved)
    assert len(index) == N and index.deleted_ids.tolist() == [1003]
    found, _ = index.search(np.ones((2, DIM), np.float32), 5)
    assert found.shape == (2, 5) and 1003 not in found
