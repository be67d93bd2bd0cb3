"""Artifact bytes through the team server: asked after, uploaded (streamed, checked against
their digest, kept once), downloaded (checked first); refused with a clear answer when the
bytes, their type, their size or the caller is wrong, and nothing half-written is kept."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from urllib.parse import urlsplit

from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from assay.store import ArtifactStore
from tests.server.api.conftest import Team

BYTES = {"Content-Type": "application/octet-stream"}


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_bytes_uploaded_once_are_held_and_come_back_whole(team: Team) -> None:
    data = bytes(range(256)) * 40_000  # 10 MB: more than any JSON body the server reads
    name = digest(data)
    with team.client("carol") as carol:
        assert carol.head(f"/blobs/{name}").status_code == 404
        put = carol.put(f"/blobs/{name}", content=data, headers=BYTES)
        assert put.status_code == 201, put.text
        assert put.json() == {"digest": name, "stored": True, "size": len(data)}
        assert carol.head(f"/blobs/{name}").status_code == 200
        again = carol.put(f"/blobs/{name}", content=data, headers=BYTES)
        assert again.json() == {"digest": name, "stored": False}
        got = carol.get(f"/blobs/{name}")
    assert got.status_code == 200
    assert got.content == data
    assert got.headers["content-length"] == str(len(data))
    assert team.ws.artifacts.get_bytes(name) == data


def test_bytes_that_do_not_hash_to_the_digest_are_refused_and_not_kept(team: Team) -> None:
    claimed = digest(b"the model")
    with team.client("carol") as carol:
        put = carol.put(f"/blobs/{claimed}", content=b"another model", headers=BYTES)
        assert put.status_code == 409
        assert f"not to {claimed[:12]}" in put.json()["error"]
        assert put.json()["kind"] == "IntegrityError"
        assert carol.head(f"/blobs/{claimed}").status_code == 404
    assert not team.ws.artifacts.exists(claimed)


def test_two_clients_uploading_the_same_bytes_at_once_both_succeed(team: Team) -> None:
    data = b"shared weights" * 200_000
    name = digest(data)
    answers: list[int] = []

    def upload(who: str) -> None:
        with team.client(who) as client:
            answers.append(client.put(f"/blobs/{name}", content=data, headers=BYTES).status_code)

    threads = [threading.Thread(target=upload, args=(who,)) for who in ("carol", "ann", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert answers == [201, 201, 201]
    assert team.ws.artifacts.get_bytes(name) == data


def test_uploads_need_a_writer_and_the_right_content_type(team: Team) -> None:
    data = b"bytes"
    with team.client("dave") as dave:
        assert dave.put(f"/blobs/{digest(data)}", content=data, headers=BYTES).status_code == 403
        assert dave.head(f"/blobs/{digest(data)}").status_code == 404  # reading is allowed
    with team.client("carol") as carol:
        as_json = carol.put(f"/blobs/{digest(data)}", json={"bytes": "x"})
        assert as_json.status_code == 415
        assert "application/octet-stream" in as_json.json()["error"]
        bad_name = carol.put("/blobs/not-a-digest", content=data, headers=BYTES)
        assert bad_name.status_code == 400
    assert not team.ws.artifacts.exists(digest(data))


def test_changed_bytes_on_the_server_are_never_sent(team: Team) -> None:
    data = b"original model bytes"
    name = digest(data)
    with team.client("carol") as carol:
        assert carol.put(f"/blobs/{name}", content=data, headers=BYTES).status_code == 201
        team.ws.artifacts.blobs.write(ArtifactStore.key(name), b"tampered model bytes")
        got = carol.get(f"/blobs/{name}")
    assert got.status_code == 409
    assert "corrupted" in got.json()["error"]
    assert b"tampered" not in got.content


def _put_head(url: str, token: str, name: str, length: int) -> tuple[tuple[str, int], bytes]:
    """Where ``url`` listens, and the head of a PUT of ``length`` bytes to ``name``."""
    where = urlsplit(url)
    head = (
        f"PUT /api/v1/blobs/{name} HTTP/1.1\r\nHost: {where.hostname}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    return (str(where.hostname), int(where.port or 80)), head


def _answer(sock: socket.socket) -> str:
    got = b""
    while b"\r\n\r\n" not in got:
        piece = sock.recv(65536)
        if not piece:
            break
        got += piece
    return got.decode("latin-1")


def test_an_upload_cut_off_keeps_nothing(team: Team) -> None:
    data = b"x" * 100_000
    name = digest(data)
    address, head = _put_head(team.url, team.tokens["carol"], name, len(data))
    with socket.create_connection(address, timeout=10) as cut:
        cut.sendall(head + data[:40_000])  # the client dies mid-upload
    time.sleep(0.5)
    with team.client("carol") as carol:
        assert carol.head(f"/blobs/{name}").status_code == 404
    assert not team.ws.artifacts.exists(name)


def test_uploads_over_the_limit_or_stalled_are_refused_and_keep_nothing(team: Team) -> None:
    options = TeamOptions(auth="token", max_upload_bytes=50_000, upload_idle_s=0.5)
    data = b"y" * 60_000
    with team_serving(team.ws, options) as (url, _):
        address, head = _put_head(url, team.tokens["carol"], digest(data), len(data))
        with socket.create_connection(address, timeout=10) as big:
            big.sendall(head)  # refused on its head alone: the body is never read
            assert _answer(big).startswith("HTTP/1.1 413")
        small = data[:30_000]
        address, head = _put_head(url, team.tokens["carol"], digest(small), len(small))
        with socket.create_connection(address, timeout=10) as stalled:
            stalled.sendall(head + small[:1000])  # then nothing
            answer = _answer(stalled)
        assert answer.startswith("HTTP/1.1 400"), answer
        assert "nothing came for 0.5 s" in answer
    assert not team.ws.artifacts.exists(digest(data))
    assert not team.ws.artifacts.exists(digest(small))


def test_the_cache_answers_nothing_for_a_key_never_seen(team: Team) -> None:
    with team.client("dave") as dave:
        assert dave.get(f"/cache/{'0' * 64}").json() == {"cached": None}
        assert dave.get("/cache/nothex").status_code == 400
