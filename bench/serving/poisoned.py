"""Good requests beside poisoned ones: does one bad request hurt the others?

sesame (one run of ``examples/sesame``, served from its compiled form, as the issue's
probe served it), or with ``--model tfidf`` a plain TF-IDF + logistic regression trained
with assay's Python API, is put into a new store and served by `assay serve` on 127.0.0.1.
Then, for ``--duration-s`` seconds, ``--clients`` closed-loop clients send good V2
requests (one sentence each) while one more sends a poisoned one (a text holding a lone
surrogate, ``"\\ud800"``: valid JSON, no text) ``--poison-rate`` times a second. Counted:
good requests answered 200 and good requests that failed, poisoned requests by status, and
what the server's /metrics says of them.

With ``--compare REV`` the same run is made against the server as it was at git revision
REV (its ``src/`` exported with ``git archive``), in the same process, so that the change
shows side by side. Prints a Markdown table and writes the raw figures as JSON.

    python bench/serving/poisoned.py --compare fca7eb9
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

import assay
from assay import Settings, pipeline, register_model, step
from assay.governance import promote
from assay.workspace import open_workspace

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "sesame" / "data" / "financial_phrasebank" / "Sentences_50Agree.txt"
POISON = (
    b'{"inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": ["\\ud800 up"]}]}'
)
# What each --model serves, and the name it answers under.
SERVED = {"sesame": ("sesame@1", "sesame"), "tfidf": ("pb@live", "pb")}


def _sentences() -> list[list[str]]:
    lines = DATA.read_text(encoding="latin-1").splitlines()
    return [line.rsplit("@", 1) for line in lines if "@" in line]


@step(outputs={"model": "model"})
def fit() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import Pipeline  # noqa: PLC0415

    rows = _sentences()
    model = Pipeline([("tfidf", TfidfVectorizer()), ("clf", LogisticRegression(max_iter=500))])
    return model.fit([r[0] for r in rows], [r[1] for r in rows])


@pipeline
def poisoned_bench() -> None:
    register_model(fit(), name="pb")


def train_sesame(home: Path) -> None:
    """``sesame@1`` in a new store at ``home``, from one run of ``examples/sesame``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env |= {"ASSAY_HOME": str(home), "ASSAY_USER": "alice"}
    argv = [sys.executable, "-m", "assay", "run", str(ROOT / "examples" / "sesame"), "--json"]
    subprocess.run(argv, env=env, cwd=home, check=True, capture_output=True)


def train(home: Path) -> None:
    """``pb@1``, the classifier, in a new store at ``home``, with alias ``live`` on it."""
    ws = open_workspace(Settings.for_project(home, user="alice"))
    try:
        assay.run(poisoned_bench, workspace=ws)
        promote(ws, "pb@1", "live")
    finally:
        ws.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def export(rev: str, folder: Path) -> Path:
    """``src/`` of ``rev``, unpacked under ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src"], capture_output=True, check=True
    ).stdout
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "archive.tar"
    path.write_bytes(archive)
    with tarfile.open(path) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def good_body(text: str) -> bytes:
    tensor = {"name": "text", "shape": [1], "datatype": "BYTES", "data": [text]}
    return json.dumps({"inputs": [tensor]}).encode()


async def traffic(
    url: str, clients: int, rate: float, duration: float, name: str
) -> dict[str, Any]:
    sentences = [row[0] for row in _sentences()[:512]]
    good: dict[str, int] = {}
    bad: dict[str, int] = {}
    headers = {"content-type": "application/json"}
    end = time.monotonic() + duration

    async def client(i: int, http: httpx.AsyncClient) -> None:
        n = i
        while time.monotonic() < end:
            body = good_body(sentences[n % len(sentences)])
            n += clients
            try:
                answer = await http.post(f"/v2/models/{name}/infer", content=body, headers=headers)
                key = str(answer.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            good[key] = good.get(key, 0) + 1

    async def poisoner(http: httpx.AsyncClient) -> None:
        while time.monotonic() < end:
            started = time.monotonic()
            try:
                answer = await http.post(
                    f"/v2/models/{name}/infer", content=POISON, headers=headers
                )
                key = str(answer.status_code)
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            bad[key] = bad.get(key, 0) + 1
            await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))

    limits = httpx.Limits(max_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)), poisoner(http))
    return {"good": good, "poisoned": bad}


def measure(label: str, src: Path, home: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env |= {"ASSAY_HOME": str(home), "ASSAY_USER": "alice", "PYTHONPATH": str(src)}
    port = free_port()
    ref, name = SERVED[args.model]
    argv = [sys.executable, "-m", "assay", "serve", ref, "--port", str(port)]
    log = (home / f"serve-{label}.log").open("w")
    server = subprocess.Popen(argv, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/v2/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"{label}: the server did not start; see {log.name}")
            time.sleep(0.05)
        counts = asyncio.run(traffic(url, args.clients, args.poison_rate, args.duration_s, name))
        metrics = httpx.get(f"{url}/metrics", timeout=5).text
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    fives = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("assay_request_errors_total{") and 'code="5' in line
    )
    good = counts["good"]
    total = sum(good.values())
    failed = total - good.get("200", 0)
    return {
        "label": label,
        **counts,
        "good_total": total,
        "good_failed": failed,
        "good_failed_share": failed / total if total else None,
        "metrics_5xx": fives,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", help="also measure the server at this git revision")
    parser.add_argument("--model", choices=sorted(SERVED), default="sesame")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--poison-rate", type=float, default=8.0)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("poisoned.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (train_sesame if args.model == "sesame" else train)(home)
        found = [measure("now", ROOT / "src", home, args)]
        if args.compare:
            found.insert(0, measure(args.compare, export(args.compare, home / "old"), home, args))
    args.out.write_text(json.dumps(found, indent=2) + "\n")
    print(
        "| server | good requests | good failed | share failed | poisoned answered | 5xx counted |"
    )
    print("|---|---|---|---|---|---|")
    for row in found:
        share = row["good_failed_share"]
        shown = f"{share:.1%}" if share is not None else "-"
        poisoned = ", ".join(f"{k}: {v}" for k, v in sorted(row["poisoned"].items()))
        print(
            f"| {row['label']} | {row['good_total']:,} | {row['good_failed']:,} | {shown} | "
            f"{poisoned} | {row['metrics_5xx']:.0f} |"
        )


if __name__ == "__main__":
    main()
