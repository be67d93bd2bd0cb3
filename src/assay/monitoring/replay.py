"""Replaying a CSV of texts through a running model server: simulated traffic for the
prediction log, with the true labels posted afterwards as late labels."""

from __future__ import annotations

import csv
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from assay.errors import ConfigError, DataError, ModelNotFoundError
from assay.registry import parse_ref, resolve
from assay.workspace import Workspace

__all__ = [
    "LabelCounts",
    "Replayed",
    "Traffic",
    "alias_version",
    "read_traffic",
    "replay",
]

Progress = Callable[[int, int], None]  # (rows answered or failed so far, rows in all)

_LABELS_PER_POST = 1000  # about 100 KB a body, well under a server's default 1 MB limit
_ERRORS_KEPT = 5


@dataclass(frozen=True, slots=True)
class Traffic:
    """Texts to send and, when a label column was named, the true label of each ('' for
    none)."""

    texts: list[str]
    labels: list[str] | None = None


@dataclass(frozen=True, slots=True)
class LabelCounts:
    """What became of the late labels posted after the traffic."""

    posted: int
    stored: int
    replaced: int
    unknown: int  # posted, but the server's prediction log did not hold the request
    skipped: int  # empty label cells, or rows whose request failed: not posted
    failed: int  # posted in a request the server refused or did not answer
    errors: list[str] = field(default_factory=list)  # why, for the first few


@dataclass(frozen=True, slots=True)
class Replayed:
    """What a replay sent, what failed, and what the model said."""

    url: str
    model: str
    version: str  # served when the replay began
    protocol: str
    requests: int
    rows: int
    failed_requests: int
    failed_rows: int
    predicted: dict[str, int]  # predicted label -> rows, most frequent first
    seconds: float
    labels: LabelCounts | None = None
    errors: list[str] = field(default_factory=list)  # the first few distinct failures
    warnings: list[str] = field(default_factory=list)


def read_traffic(
    path: Path, column: str, labels: str | None = None, limit: int | None = None
) -> Traffic:
    """The texts of ``column`` of a UTF-8 CSV file (and the labels of ``labels``), at most
    ``limit`` of them.

    Raises:
        ConfigError: ``limit`` is below 1.
        DataError: the file is missing, not UTF-8, not CSV, empty, or lacks a column.
    """
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit must be at least 1, got {limit}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _read(csv.DictReader(handle), path, column, labels, limit)
    except FileNotFoundError:
        raise DataError(f"no such file: {path}", hint="give --input a CSV file") from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path} is not UTF-8 text (byte {exc.start} of a line cannot be read as UTF-8)",
            hint="save it as UTF-8, for example `iconv -f latin1 -t utf-8 IN.csv > OUT.csv`",
        ) from None
    except csv.Error as exc:
        raise DataError(f"{path} is not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _read(
    reader: csv.DictReader[str], path: Path, column: str, labels: str | None, limit: int | None
) -> Traffic:
    columns = reader.fieldnames
    if not columns:
        raise DataError(f"{path} is empty", hint="its first line names the columns")
    for wanted, flag in ((column, "--column"), (labels, "--labels")):
        if wanted is not None and wanted not in columns:
            raise DataError(
                f"{path} has no column {wanted!r} ({flag})",
                hint=f"its columns: {', '.join(columns)}",
            )
    texts: list[str] = []
    truth: list[str] = []
    for row in reader:
        if limit is not None and len(texts) >= limit:
            break
        text = row.get(column)
        if text is None:  # a short line: csv fills missing cells with None
            raise DataError(f"{path} line {reader.line_num} has no {column!r} cell")
        texts.append(text)
        truth.append((row.get(labels) or "").strip() if labels else "")
    if not texts:
        raise DataError(f"{path} holds no rows under its header")
    return Traffic(texts, truth if labels else None)


def alias_version(ws: Workspace, ref: str) -> int | None:
    """The version an alias reference (``sesame@production``) names in ``ws``'s registry;
    None when ``ref`` names no alias or the registry does not know it.

    Raises:
        ModelNotFoundError: ``ref`` is malformed.
    """
    if parse_ref(ref).alias is None:
        return None
    try:
        return resolve(ws, ref).version
    except ModelNotFoundError:
        return None  # the server may read another store; nothing to compare with here


def replay(
    url: str,
    ref: str,
    traffic: Traffic,
    *,
    batch: int = 1,
    concurrency: int = 1,
    protocol: str = "v1",
    expected_alias_version: int | None = None,
    progress: Progress | None = None,
    timeout_s: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    labels_token: str | None = None,
) -> Replayed:
    """Send ``traffic``'s texts, ``batch`` per request and ``concurrency`` requests at a
    time, to the server at ``url`` serving model ``ref`` (the part before ``@``); then post
    the labels of the rows answered to its labels route (with ``labels_token`` as the
    bearer token, when the server asks for one). A refused or unanswered request is
    counted as failed, not raised.

    Raises:
        ConfigError: an option is out of range or ``url`` is not http(s); no server
            answers at ``url``; it does not serve the model; or ``ref`` names a version
            other than the one it serves.
        ModelNotFoundError: ``ref`` is malformed.
    """
    if batch < 1 or concurrency < 1:
        raise ConfigError(
            f"--batch and --concurrency must be at least 1, got {batch}, {concurrency}"
        )
    if protocol not in {"v1", "v2"}:
        raise ConfigError(f"unknown --protocol {protocol!r}", hint="use v1 or v2")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"--url {url!r} is not an HTTP address", hint="for example http://127.0.0.1:8080"
        )
    parsed = parse_ref(ref)
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=timeout_s, transport=transport) as client:
        version = _served_version(client, url, ref, parsed.name)
        warnings = []
        if parsed.version is not None and str(parsed.version) != version:
            raise ConfigError(
                f"the server at {url} serves {parsed.name}@{version}, not {ref}",
                hint=f"replay {parsed.name}@{version}, or serve {ref}",
            )
        if expected_alias_version is not None and str(expected_alias_version) != version:
            warnings.append(
                f"{ref} is version {expected_alias_version} in this store, but the server "
                f"serves version {version}; the traffic is logged for version {version}"
            )
        answers = _send_all(
            client, parsed.name, protocol, traffic.texts, batch, concurrency, progress
        )
        counts = None
        if traffic.labels is not None:
            counts = _post_labels(client, parsed.name, traffic.labels, answers, labels_token)
    failed = [a for a in answers if a.error is not None]
    predicted = Counter(label for a in answers for label in a.predicted)
    return Replayed(
        url=url,
        model=parsed.name,
        version=version,
        protocol=protocol,
        requests=len(answers),
        rows=len(traffic.texts),
        failed_requests=len(failed),
        failed_rows=sum(a.size for a in failed),
        predicted=dict(predicted.most_common()),
        seconds=time.perf_counter() - started,
        labels=counts,
        errors=list(dict.fromkeys(str(a.error) for a in failed))[:_ERRORS_KEPT],
        warnings=warnings,
    )


def _served_version(client: httpx.Client, url: str, ref: str, name: str) -> str:
    try:
        response = client.get(f"/v1/models/{name}")
        body = response.json()
    except httpx.HTTPError as exc:
        raise ConfigError(
            f"no model server answers at {url} ({type(exc).__name__}: {exc})",
            hint=f"start one with `assay serve {ref}`, or give --url",
        ) from None
    except ValueError:
        raise ConfigError(
            f"{url} answered GET /v1/models/{name} with something other than JSON",
            hint="is --url an assay or KServe model server?",
        ) from None
    if response.status_code == 404:
        served = _served_models(client)
        raise ConfigError(
            f"the server at {url} does not serve model {name!r} (it serves: {served})",
            hint=f"start one that does with `assay serve {ref}`, or give --url",
        )
    if response.status_code != 200 or not isinstance(body, dict) or "version" not in body:
        raise ConfigError(
            f"{url} answered GET /v1/models/{name} with {response.status_code}: {str(body)[:200]}",
            hint="is --url an assay model server?",
        )
    return str(body["version"])


def _served_models(client: httpx.Client) -> str:
    try:
        models = client.get("/v1/models").json().get("models", [])
    except (httpx.HTTPError, ValueError, AttributeError):
        return "unknown"
    return ", ".join(str(m) for m in models) or "none"


@dataclass(frozen=True, slots=True)
class _Answer:
    start: int  # the index of the request's first text in the traffic
    size: int
    request_id: str
    predicted: list[str]
    error: str | None = None


def _send_all(
    client: httpx.Client,
    name: str,
    protocol: str,
    texts: Sequence[str],
    batch: int,
    concurrency: int,
    progress: Progress | None,
) -> list[_Answer]:
    # Request ids say where the traffic came from, so that the log tells replays apart.
    run = f"replay-{uuid.uuid4().hex[:12]}"
    chunks = [(start, list(texts[start : start + batch])) for start in range(0, len(texts), batch)]
    answers: list[_Answer] = []
    done = 0
    with ThreadPoolExecutor(concurrency, thread_name_prefix="assay-replay") as pool:
        futures = [
            pool.submit(_send, client, name, protocol, f"{run}-{n}", start, chunk)
            for n, (start, chunk) in enumerate(chunks)
        ]
        for future in as_completed(futures):
            answer = future.result()
            answers.append(answer)
            done += answer.size
            if progress is not None:
                progress(done, len(texts))
    return sorted(answers, key=lambda a: a.start)


def _send(
    client: httpx.Client, name: str, protocol: str, request_id: str, start: int, texts: list[str]
) -> _Answer:
    body: dict[str, Any]
    if protocol == "v1":
        path, body = f"/v1/models/{name}:predict", {"instances": texts}
    else:
        tensor = {"name": "text", "shape": [len(texts)], "datatype": "BYTES", "data": texts}
        path, body = f"/v2/models/{name}/infer", {"inputs": [tensor]}
    try:
        response = client.post(path, json=body, headers={"x-request-id": request_id})
        answer = response.json()
    except httpx.HTTPError as exc:
        return _Answer(start, len(texts), request_id, [], f"{type(exc).__name__}: {exc}")
    except ValueError:
        return _Answer(start, len(texts), request_id, [], f"{response.status_code}: not JSON")
    if response.status_code != 200 or not isinstance(answer, dict):
        return _Answer(start, len(texts), request_id, [], _refusal(response.status_code, answer))
    return _Answer(
        start, len(texts), str(answer.get("id", request_id)), _predicted(protocol, answer)
    )


def _predicted(protocol: str, answer: dict[str, Any]) -> list[str]:
    if protocol == "v1":
        return [str(p.get("label")) for p in answer.get("predictions", [])]
    for tensor in answer.get("outputs", []):
        if tensor.get("name") == "label":
            return [str(label) for label in tensor.get("data", [])]
    return []


def _refusal(status: int, answer: Any) -> str:
    message = answer.get("error") if isinstance(answer, dict) else None
    return f"{status}: {message or str(answer)[:200]}"


def _post_labels(
    client: httpx.Client,
    name: str,
    labels: list[str],
    answers: Sequence[_Answer],
    token: str | None,
) -> LabelCounts:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    given = [
        {"request_id": a.request_id, "label": label, "row": row}
        for a in answers
        if a.error is None
        for row in range(a.size)
        if (label := labels[a.start + row])
    ]
    stored = replaced = unknown = failed = 0
    errors: list[str] = []
    for chunk in _chunks(given, _LABELS_PER_POST):
        try:
            response = client.post(
                f"/v1/models/{name}/labels", json={"labels": chunk}, headers=headers
            )
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            failed += len(chunk)
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if response.status_code == 200 and isinstance(body, dict):
            stored += int(body.get("stored", 0))
            replaced += int(body.get("replaced", 0))
            unknown += len(body.get("unknown", []))
        elif response.status_code == 422:  # none of them matched a logged request
            unknown += len(chunk)
        else:
            failed += len(chunk)
            errors.append(_refusal(response.status_code, body))
    skipped = len(labels) - len(given)
    kept = list(dict.fromkeys(errors))[:_ERRORS_KEPT]
    return LabelCounts(len(given), stored, replaced, unknown, skipped, failed, kept)


def _chunks(items: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
