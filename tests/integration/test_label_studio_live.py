"""The live Label Studio round trip against a real Label Studio server on localhost: push a pending batch as tasks
(ids as strings, P(positive) as pre-annotations), annotate through the API as a person would in the browser, pull
the annotations back (the latest not cancelled wins), and refuse a project whose Choices control is not `label`.

The server runs from its own virtual environment (its pins clash with textsel's): ``$TEXTSEL_LABEL_STUDIO`` names
its ``label-studio`` executable (CI's set-up step makes one, see .ci/run); without it the fixture installs Label
Studio into ``~/.cache/textsel-test/label-studio`` once. The test is skipped, saying why, only when Label Studio
cannot be installed or label-studio-sdk (the ``label-studio`` extra) is missing. The server's data folder is kept
beside that environment, so only the first start pays for Label Studio's database migrations (minutes).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import fake_embeddings
from textsel.cli.app import app
from typer.testing import CliRunner

from textsel.project import Project

LABEL_STUDIO_VERSION = "1.23.2"
HOME = Path(os.environ.get("TEXTSEL_TEST_CACHE", Path.home() / ".cache" / "textsel-test")) / "label-studio"
TOKEN = "5e1ec7ed0ab1e5700d1ab5e150c1a1ab01234567"  # a legacy API token made for the test user at first start
STARTUP_SECONDS = 1200  # the first start migrates an empty database: minutes on a busy machine

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def _executable() -> Path:
    """The label-studio executable: $TEXTSEL_LABEL_STUDIO, else one installed here once (skip if impossible)."""
    given = os.environ.get("TEXTSEL_LABEL_STUDIO")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"TEXTSEL_LABEL_STUDIO={given} is not a file")
        return Path(given)
    executable = HOME / "venv" / "bin" / "label-studio"
    if executable.is_file():
        return executable
    HOME.mkdir(parents=True, exist_ok=True)
    commands = [[sys.executable, "-m", "venv", str(HOME / "venv")],
                [str(HOME / "venv" / "bin" / "pip"), "install", "-q", f"label-studio=={LABEL_STUDIO_VERSION}",
                 "sentry-sdk<3"]]  # label-studio 1.23 does not start with sentry-sdk 3
    for command in commands:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as error:
            pytest.skip(f"Label Studio could not be installed ({error})")
        if done.returncode != 0:
            pytest.skip(f"Label Studio could not be installed: {' '.join(command[:3])} failed: "
                        f"{done.stderr.strip()[-300:]}")
    return executable


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def label_studio():
    """(url, token) of a Label Studio server started here; stopped afterwards."""
    pytest.importorskip("label_studio_sdk", reason="label-studio-sdk is not installed (the label-studio extra)")
    executable = _executable()
    port, data = _free_port(), HOME / f"data-{LABEL_STUDIO_VERSION}"
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data), "LABEL_STUDIO_USERNAME": "textsel@example.com",
           "LABEL_STUDIO_PASSWORD": "textsel-test-password", "LABEL_STUDIO_USER_TOKEN": TOKEN,
           "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true", "SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""}
    log = open(data / "server.log", "ab")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen([str(executable), "start", "--no-browser", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"Label Studio exited with {server.returncode}; see {data / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"Label Studio did not answer within {STARTUP_SECONDS} s; see {data / 'server.log'}")
            time.sleep(2)
        yield url, TOKEN
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and the workers it started, nothing else
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def _project(tmp_path):
    """Twelve texts under 18-digit ids (a JavaScript double cannot hold them), four labeled, a batch of four."""
    ids = [123456789012345600 + 7 * i for i in range(12)]
    texts = [f"tweet {i}, they lost my bag" if i % 3 == 0 else f"tweet {i} about a delayed flight" for i in range(12)]
    with open(tmp_path / "tweets.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([("tweet_id", "text"), *zip(ids, texts, strict=True)])
    vectors = fake_embeddings(texts, 8)
    vectors[::3, 0] += 2.0
    np.save(tmp_path / "emb.npy", vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    folder = tmp_path / "air"
    assert invoke("init", folder, "--data", tmp_path / "tweets.csv", "--id-col", "tweet_id", "--labels",
                  "bag,other", "--embeddings", tmp_path / "emb.npy", "--backend", "exact").exit_code == 0
    assert invoke("label", "--ids", f"{ids[0]},{ids[3]}", "--label", "bag", "-p", folder).exit_code == 0
    assert invoke("label", "--ids", f"{ids[1]},{ids[2]}", "--label", "other", "-p", folder).exit_code == 0
    assert invoke("next", "-n", 4, "-s", "random", "--pool", "all", "-p", folder).exit_code == 0
    with Project(folder) as opened:
        batch = [str(doc_id) for doc_id in opened.external_ids(opened.store.pending()[1])]
    return folder, batch


def _choice(label):
    return [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_a_batch_goes_to_label_studio_and_its_annotations_come_back(label_studio, tmp_path):
    from label_studio_sdk.client import LabelStudio

    url, token = label_studio
    folder, batch = _project(tmp_path)
    pushed = invoke("studio", "push", "--url", url, "--api-key", token, "--title", "textsel test", "-p", folder)
    assert pushed.exit_code == 0, pushed.output
    ls_project = int(re.search(r"Label Studio project (\d+)", pushed.output).group(1))
    client = LabelStudio(base_url=url, api_key=token)
    tasks = {task.data["id"]: task for task in client.tasks.list(project=ls_project, fields="all")}
    assert sorted(tasks) == sorted(batch) and all(isinstance(doc_id, str) for doc_id in tasks)  # ids as strings
    for task in tasks.values():  # P(positive) as a pre-annotation on every task
        (prediction,) = task.predictions
        score = prediction["score"] if isinstance(prediction, dict) else prediction.score
        assert 0.0 <= score <= 1.0

    first, second, third, fourth = batch
    for doc_id, notes in ((first, [("other", False), ("bag", False)]),  # the latest wins
                          (second, [("bag", False), ("other", True)]),  # a cancelled annotation does not count
                          (fourth, [("other", False)])):  # the third is never annotated
        for label, cancelled in notes:
            client.annotations.create(id=tasks[doc_id].id, result=_choice(label), was_cancelled=cancelled)
            time.sleep(0.01)
    pulled = invoke("studio", "pull", "--url", url, "--api-key", token, "--ls-project", ls_project,
                    "-p", folder)
    assert pulled.exit_code == 0, pulled.output
    assert "Imported 3 labels" in pulled.output and "1 tasks without an annotation" in pulled.output
    with Project(folder) as opened:
        labels = dict(zip(map(str, opened.external_ids(list(opened.store.current_labels()))),
                          opened.store.current_labels().values(), strict=True))
    assert (labels[first], labels[second], labels[fourth]) == ("bag", "bag", "other") and third not in labels


def test_a_label_studio_project_whose_choices_are_not_named_label_is_refused(label_studio, tmp_path):
    from label_studio_sdk.client import LabelStudio

    url, token = label_studio
    folder, batch = _project(tmp_path)
    client = LabelStudio(base_url=url, api_key=token)
    config = ('<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
              '<Choice value="bag"/><Choice value="other"/></Choices></View>')
    created = client.projects.create(title="textsel wrong control", label_config=config)
    client.projects.import_tasks(id=created.id, request=[{"data": {"id": doc_id, "text": "t"}} for doc_id in batch])
    task = next(iter(client.tasks.list(project=created.id, fields="all")))
    client.annotations.create(id=task.id, result=[{"from_name": "sentiment", "to_name": "text", "type": "choices",
                                                   "value": {"choices": ["bag"]}}])
    refused = invoke("studio", "pull", "--url", url, "--api-key", token, "--ls-project", created.id,
                     "-p", folder)
    assert refused.exit_code == 1 and "no Choices control named 'label'" in " ".join(refused.output.split())
    pushed = invoke("studio", "push", "--url", url, "--api-key", token, "--ls-project", created.id,
                    "-p", folder)
    assert pushed.exit_code == 1 and "no Choices control named 'label'" in " ".join(pushed.output.split())
    with Project(folder) as opened:
        assert len(opened.store.current_labels()) == 4  # nothing was recorded
