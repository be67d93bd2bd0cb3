"""sesame kept honest in production, with the real commands: traffic replayed through
`assay serve`, then `assay monitor run`. Held-back Financial PhraseBank sentences raise no
drift alert; social-media posts do, and with their labels a performance alert; the alert
starts a retraining whose candidate reaches staging and waits for a four-eyes approval,
and once approved and promoted the running server swaps to it."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import Result, run_subprocess
from tests.cli.test_serve import serve_process
from tests.conftest import ROOT

SESAME = ROOT / "examples" / "sesame"
CORPUS = "Sentences_50Agree.txt"


def labelled_posts(n: int, seed: int = 5) -> list[tuple[str, str]]:
    """Short market chatter in the style of social media, with the sentiment it expresses."""
    rng = random.Random(seed)
    tickers = ["$TSLA", "$AAPL", "$GME", "$NOK", "$AMC", "$NVDA", "$SPY", "$BTC"]
    moods = {
        "positive": ["to the moon 🚀🚀", "printing money 🤑", "gonna rip tmrw", "diamond hands 💎"],
        "negative": ["is tanking lol", "rug pulled smh", "bag holders rn 😭", "down bad fr"],
        "neutral": ["anyone watching today?", "earnings at 5pm", "what's the play", "thoughts?"],
    }
    tails = ["#stocks", "#wsb", "ngl", "imo", "yolo", "", "👀"]
    posts = []
    for _ in range(n):
        label = rng.choice(sorted(moods))
        text = f"{rng.choice(tickers)} {rng.choice(moods[label])} {rng.choice(tails)}".strip()
        posts.append((text, label))
    return posts


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sentence", "label"])
        writer.writerows(rows)
    return path


class Project:
    """A store where carol trained sesame on the corpus less 400 held-back sentences and dave
    approved it for production, with `assay serve sesame@production` running."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        # The server takes labels with this token, and `monitor replay` sends it.
        self.env |= {"ASSAY_HOME": str(folder), "XDG_STATE_HOME": str(folder / "state"),
                     "COLUMNS": "200", "ASSAY_LABELS_TOKEN": "sesame-labels-token-e2e"}  # fmt: skip
        self.url = ""
        self.held = 0

    def __call__(self, user: str, *args: str) -> Result:
        return run_subprocess(list(args), self.folder, {**self.env, "ASSAY_USER": user}, 900)


def hold_back(folder: Path, every: int = 12) -> list[tuple[str, str]]:
    """Copy the corpus into ``folder`` without every ``every``-th sentence; returns those."""
    shutil.copytree(SESAME / "data" / "financial_phrasebank", folder)
    lines = (folder / CORPUS).read_bytes().split(b"\n")
    kept, held = [], []
    for i, line in enumerate(lines):
        if line.strip() and i % every == every - 1:
            sentence, _, label = line.decode("iso-8859-1").rstrip("\r").rpartition("@")
            held.append((sentence.strip(), label.strip()))
        else:
            kept.append(line)
    (folder / CORPUS).write_bytes(b"\n".join(kept))
    return held


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    p = Project(tmp_path_factory.mktemp("sesame-monitored"))
    held = hold_back(p.folder / "corpus")
    p.held = len(held)
    write_csv(p.folder / "held_back.csv", held)
    write_csv(p.folder / "posts.csv", labelled_posts(300))
    data = f"data={p.folder / 'corpus'}"
    trained = p("carol", "run", str(SESAME), "--param", data, "--json")
    assert trained.code == 0, trained.err
    assert p("carol", "users", "grant", "dave", "approver").code == 0
    assert p("carol", "users", "grant", "monitor", "developer").code == 0  # it retrains
    assert p("carol", "models", "request-promotion", "sesame@1", "--comment", "v1").code == 0
    assert p("dave", "models", "approve", "sesame@1", "--comment", "read").code == 0
    assert p("carol", "models", "promote", "sesame@1", "--to", "production").code == 0
    (p.folder / "monitor.yaml").write_text(
        "model: sesame@production\nevery: 1s\nwindow: 24h\n"
        f"retrain:\n  pipeline: {SESAME}\n  params: {{data: {p.folder / 'corpus'}}}\n"
        "  feedback: feedback\n"
    )
    args = ["sesame@production", "--poll-seconds", "0.5", "--accept-labels"]
    with serve_process(args, {**p.env, "ASSAY_USER": "server"}, p.folder) as served:
        p.url = served.url
        yield p


def monitor_round(p: Project) -> dict:
    ran = p("monitor", "monitor", "run", "--policy", str(p.folder / "monitor.yaml"), "--once",
            "--json")  # fmt: skip
    assert ran.code == 0, ran.out + ran.err
    return json.loads(ran.out)


def test_held_back_sentences_raise_no_drift_alert(project: Project) -> None:
    sent = project("carol", "monitor", "replay", "sesame@production", "--input",
                   str(project.folder / "held_back.csv"), "--column", "sentence",
                   "--url", project.url, "--batch", "4", "--json")  # fmt: skip
    assert sent.code == 0, sent.err
    assert json.loads(sent.out)["rows"] == project.held
    done = monitor_round(project)
    (drift,) = [c for c in done["checked"] if c["window"]["kind"] == "drift"]
    assert drift["window"]["status"] == "ok", drift["window"]["report"]
    assert drift["alert"] is None and done["retrain"] is None


def test_social_posts_raise_alerts_and_a_retraining_that_waits_for_approval(
    project: Project,
) -> None:
    sent = project("carol", "monitor", "replay", "sesame@production", "--input",
                   str(project.folder / "posts.csv"), "--column", "sentence", "--labels",
                   "label", "--url", project.url, "--json")  # fmt: skip
    assert sent.code == 0, sent.err
    done = monitor_round(project)
    statuses = {c["window"]["kind"]: c["window"]["status"] for c in done["checked"]}
    assert statuses == {"drift": "drift", "performance": "drop"}
    retrained = done["retrain"]
    assert retrained["status"] == "registered" and retrained["version"] == 2
    assert retrained["outcome"]["gates"] == "passed", retrained["outcome"]
    assert retrained["outcome"]["staging"] == 2 and retrained["outcome"]["feedback_rows"] == 300

    shown = json.loads(project("erin", "models", "show", "sesame@2", "--json").out)
    assert shown["aliases"] == ["staging"] and shown["retrain"]["id"] == retrained["id"]
    (request,) = shown["requests"]
    assert request["alias"] == "production" and request["status"] == "open"
    alerts = json.loads(project("erin", "monitor", "alerts", "--json").out)
    assert sorted(a["kind"] for a in alerts) == ["drift", "performance"]
    # The monitor asked for the promotion; four eyes: dave approves it, carol promotes it.
    refused = project("monitor", "models", "approve", "sesame@2", "--comment", "mine")
    assert refused.code == 1
    assert project("dave", "models", "approve", "sesame@2", "--comment", "read").code == 0
    promoted = project("carol", "models", "promote", "sesame@2", "--to", "production")
    assert promoted.code == 0, promoted.err
    deadline = time.monotonic() + 30
    while httpx.get(f"{project.url}/v1/models/sesame", timeout=5).json()["version"] != "2":
        assert time.monotonic() < deadline, "the server did not swap to sesame@2"
        time.sleep(0.2)
    verified = project("erin", "audit", "verify")
    assert verified.code == 0, verified.err

    # The evidence report answers "does it keep doing it?" for both versions.
    for ref in ("sesame@1", "sesame@2"):
        written = project("erin", "report", ref, "--format", "json", "-o", f"{ref}.json")
        assert written.code == 0, written.err
    old = json.loads((project.folder / "sesame@1.json").read_text())["does_it_keep_doing_it"]
    assert old["monitoring"]["open_alerts"] == 2
    assert old["monitoring"]["latest drift check"].startswith("drift")
    assert (
        old["monitoring"]["retrainings it started"] == f"{retrained['id']}: registered, version 2"
    )
    new = json.loads((project.folder / "sesame@2.json").read_text())["does_it_keep_doing_it"]
    assert new["monitoring"]["made by"].startswith(f"retraining {retrained['id']}: drift and")
