"""sesame through governance with the real command: gates, a second user's approval,
promotion, the production question, the audit chain, reproduction and the evidence report."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from tests.cli.conftest import Result, run_subprocess
from tests.conftest import ROOT

SESAME = ROOT / "examples" / "sesame"


class Store:
    """One project folder with sesame trained once, shared by this module's tests."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
        self.env.update(
            {
                "ASSAY_HOME": str(folder),
                "XDG_STATE_HOME": str(folder / "state"),  # the audit anchors, outside the store
                "COLUMNS": "200",
            }
        )

    def __call__(self, user: str, *args: str) -> Result:
        return run_subprocess(list(args), self.folder, {**self.env, "ASSAY_USER": user}, 600)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    s = Store(tmp_path_factory.mktemp("sesame-governed"))
    trained = s("carol", "run", str(SESAME), "--json")
    assert trained.code == 0, trained.err
    s.run_id = json.loads(trained.out)["run_id"]  # type: ignore[attr-defined]
    assert json.loads(trained.out)["gates"] == {"sesame@1": {"passed": True, "failed": []}}
    return s


def test_sesame_is_approved_by_a_second_user_and_promoted(store: Store) -> None:
    assert store("carol", "users", "grant", "dave", "approver").code == 0
    requested = store("carol", "models", "request-promotion", "sesame@1", "--comment", "v1")
    assert requested.code == 0, requested.err
    self_review = store("carol", "models", "approve", "sesame@1", "--comment", "mine")
    assert self_review.code == 1 and "carol trained sesame@1" in self_review.err
    approved = store("dave", "models", "approve", "sesame@1", "--comment", "card and gates read")
    assert approved.code == 0, approved.err
    promoted = store("carol", "models", "promote", "sesame@1", "--to", "production")
    assert promoted.code == 0, promoted.err

    today = dt.datetime.now(dt.UTC).date().isoformat()
    answer = store("erin", "models", "history", "sesame", "--alias", "production", "--at", today)
    assert answer.code == 0, answer.err
    assert "sesame@production was version 1" in answer.out
    assert "by carol" in answer.out and "approved by dave" in answer.out
    as_json = store(
        "erin", "models", "history", "sesame", "--alias", "production", "--at", today, "--json"
    )
    assert json.loads(as_json.out)["approved_by"] == ["dave"]

    verified = store("erin", "audit", "verify")
    assert verified.code == 0, verified.err
    assert "audit chain verified" in verified.out


def test_sesame_run_reproduces(store: Store) -> None:
    result = store("carol", "reproduce", store.run_id, "--json")  # type: ignore[attr-defined]
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["reproduced"] is True


def test_sesame_evidence_report_opens_offline_with_the_four_questions(store: Store) -> None:
    from tests.report.test_browser import chromium

    written = store("erin", "report", "sesame@production", "-o", "sesame.html")
    assert written.code == 0, written.err
    assert "gates passed, audit chain verified" in written.out
    as_json = store("erin", "report", "sesame@production", "--format", "json", "-o", "e.json")
    assert as_json.code == 0, as_json.err
    evidence = json.loads((store.folder / "e.json").read_text())
    head = evidence["is_it_compliant"]["audit"]["head"]["hash"]
    with chromium(store.folder / "sesame.html") as (page, outside):
        expected = {
            "what-it-does": ["sesame@1", "Triage of sentences", "innovation-team@audit-firm"],
            "is-it-compliant": ["min recall of class negative", "dave", "carol", head[:16]],
            "does-it-do-what-it-must": [
                f"{evidence['does_it_do_what_it_must']['metrics']['macro_f1']:.4f}",
                "negative",
                evidence["does_it_do_what_it_must"]["data"][0]["digest"],
            ],
            "does-it-keep-doing-it": ["production", "approved promotion"],
        }
        for section_id, needles in expected.items():
            section = page.locator(f"section#{section_id}")
            assert section.is_visible(), section_id
            text = section.inner_text()
            for needle in needles:
                assert needle in text, (section_id, needle)
        assert page.locator("section#does-it-do-what-it-must figure svg").count() == 2
        assert (
            "model sesame@1" in page.locator("section#provenance figure.lineage svg").inner_html()
        )
        assert outside == []


def test_sesame_served_from_production_swaps_to_an_approved_version_under_load(
    store: Store,
) -> None:
    import concurrent.futures
    import signal
    import subprocess
    import sys
    import threading

    import httpx

    from tests.cli.test_serve import free_port, wait_until_ready
    from tests.waiting import wait_until

    trained = store("carol", "run", str(SESAME), "--param", "alpha=0.00012", "--json")
    assert trained.code == 0, trained.err
    assert json.loads(trained.out)["gates"]["sesame@2"]["passed"] is True
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assay",
            "serve",
            "sesame@production",
            "--port",
            str(port),
            "--poll-seconds",
            "0.2",
        ],
        env={**store.env, "ASSAY_USER": "ops"},
        cwd=store.folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()
    sentence = "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period."
    answered: list[tuple[int, str]] = []  # by every client, in order (append is atomic)

    def load() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                r = client.post(f"{url}/v1/models/sesame:predict", json={"instances": [sentence]})
                answered.append((r.status_code, r.json().get("model_version", "")))

    def seen(version: str) -> bool:
        for future in futures:
            if future.done():
                future.result()  # a client that stopped early says why
        return any(v == version for _, v in answered)

    def serving_version() -> str:
        return str(httpx.get(f"{url}/v1/models/sesame").json()["version"])

    try:
        wait_until_ready(url, server)
        v2 = httpx.post(
            f"{url}/v2/models/sesame/infer",
            json={
                "id": "a1",
                "inputs": [{"name": "text", "shape": [1], "datatype": "BYTES", "data": [sentence]}],
            },
        ).json()
        assert v2["id"] == "a1" and v2["outputs"][0]["data"] == ["positive"]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(load) for _ in range(4)]
            try:
                wait_until(
                    lambda: seen("1"), message="no request was answered before the promotion"
                )
                assert store("carol", "models", "request-promotion", "sesame@2").code == 0
                assert store("dave", "models", "approve", "sesame@2", "--comment", "ok").code == 0
                assert (
                    store("carol", "models", "promote", "sesame@2", "--to", "production").code == 0
                )
                wait_until(  # the new version loads in the background
                    lambda: serving_version() == "2",
                    timeout=90,
                    interval=0.2,
                    message="the server did not swap to sesame@2",
                )
                wait_until(lambda: seen("2"), message="no request was answered by sesame@2")
            finally:
                stop.set()  # else leaving the pool waits on the clients forever
            for future in futures:
                future.result()
        results = list(answered)
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
    assert results and all(code == 200 for code, _ in results)
    assert results[0][1] == "1" and "2" in {v for _, v in results}
    rows = store("erin", "audit", "verify", "--json")
    assert json.loads(rows.out)["ok"] is True
