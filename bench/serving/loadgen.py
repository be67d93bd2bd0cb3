"""A bounded, closed-loop HTTP load generator: N keep-alive connections on 127.0.0.1.

Each of ``--concurrency`` workers holds one HTTP/1.1 keep-alive connection and sends one
POST at a time (the next as soon as the previous answer is read), cycling through the
request bodies in ``--bodies`` (a JSON list of JSON values, one per request). Every answer
is checked: status 200, a JSON body, and ``--rows`` predictions of the expected shape
(``--tool``: ``assay`` KServe V1, ``mlflow`` invocations, ``v2`` an Open Inference Protocol
V2 FP64 tensor of [rows, 3] probabilities); a request that fails any check is counted as an
error, not as throughput.

Phases: ``--warmup-s`` of load whose answers are checked but not recorded, then
``--duration-s`` measured: a request counts when its answer arrives inside the window, its
latency is from the first byte written to the last byte read. Workers stop sending at the
end of the window (no open-ended queue: at most N requests are ever in flight).

Also reported: this process's CPU time in the window, the CPU time of the server's process
tree (``--pid``, its children included) over the same window, and the busy CPU time of the
whole machine (``/proc/stat``), so that what other processes took of the shared cores shows.

The client is plain asyncio streams with a hand-written HTTP/1.1 exchange (no HTTP library):
a few tens of microseconds of Python per request, so that the generator, which shares the
machine's cores with the server, takes as little of them as possible.

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def machine_cpu_s() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores (from /proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid``'s process tree."""
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def check_assay(body: Any, rows: int) -> bool:
    preds = body.get("predictions") if isinstance(body, dict) else None
    return (
        isinstance(preds, list)
        and len(preds) == rows
        and all(
            isinstance(p, dict)
            and isinstance(p.get("label"), str)
            and isinstance(p.get("probabilities"), dict)
            and len(p["probabilities"]) == 3
            for p in preds
        )
    )


def check_mlflow(body: Any, rows: int) -> bool:
    preds = body.get("predictions") if isinstance(body, dict) else None
    return (
        isinstance(preds, list)
        and len(preds) == rows
        and all(isinstance(p, list) and len(p) == 3 for p in preds)
    )


def check_v2(body: Any, rows: int) -> bool:
    """An Open Inference Protocol answer with a [rows, 3] FP64 tensor of probabilities
    (assay's ``probabilities``, MLServer's ``predict_proba``)."""
    outputs = body.get("outputs") if isinstance(body, dict) else None
    return isinstance(outputs, list) and any(
        isinstance(o, dict)
        and o.get("datatype") == "FP64"
        and o.get("shape") == [rows, 3]
        and isinstance(o.get("data"), list)
        and len(o["data"]) == rows * 3
        for o in outputs
    )


CHECKS = {"assay": check_assay, "mlflow": check_mlflow, "v2": check_v2}


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors = 0
        self.error_examples: list[str] = []
        self.warmup_requests = 0
        self.reconnects = 0
        self.answered_ok = 0

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_examples) < 5:
            self.error_examples.append(text[:300])


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        return status, b"".join(parts), close
    return status, await reader.readexactly(length or 0), close


async def worker(
    index: int,
    args: argparse.Namespace,
    requests: list[bytes],
    stats: Stats,
    t_measure: float,
    t_end: float,
) -> None:
    check = CHECKS[args.tool]
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    i = index * 7919  # each worker starts at a different body
    while True:
        now = time.perf_counter()
        if now >= t_end:
            break
        if reader is None or writer is None:
            try:
                reader, writer = await asyncio.open_connection(args.host, args.port)
            except OSError as exc:
                stats.error(f"connect: {type(exc).__name__}: {exc}")
                await asyncio.sleep(0.1)
                continue
        request = requests[i % len(requests)]
        i += 1
        start = time.perf_counter()
        try:
            writer.write(request)
            status, data, close = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            stats.error(f"{type(exc).__name__}: {exc}")
            stats.reconnects += 1
            writer.close()
            reader = writer = None
            continue
        end = time.perf_counter()
        ok = status == 200
        if ok:
            try:
                ok = check(json.loads(data), args.rows)
            except ValueError:
                ok = False
        stats.answered_ok += ok
        if start >= t_measure and end <= t_end:
            if ok:
                stats.latencies.append(end - start)
            else:
                stats.error(f"status {status}: {data[:200]!r}")
        elif end < t_measure:
            stats.warmup_requests += 1
            if not ok:
                stats.error(f"(warm-up) status {status}: {data[:200]!r}")
        if close:
            writer.close()
            reader = writer = None
            stats.reconnects += 1
    if writer is not None:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bodies = json.loads(Path(args.bodies).read_text())
    requests = [
        (
            f"POST {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n"
            "Connection: keep-alive\r\n\r\n"
        ).encode()
        + b
        for b in (json.dumps(body).encode() for body in bodies)
    ]
    stats = Stats()
    t0 = time.perf_counter()
    t_measure = t0 + args.warmup_s
    t_end = t_measure + args.duration_s
    tasks = [
        asyncio.create_task(worker(i, args, requests, stats, t_measure, t_end))
        for i in range(args.concurrency)
    ]

    def cpu_now() -> tuple[float, float, float, float]:
        server = tree_cpu_s(args.pid) if args.pid else 0.0
        return time.perf_counter(), time.process_time(), server, machine_cpu_s()

    async def sample_cpu() -> tuple[float, float, float, float]:
        """Wall, client CPU, server CPU and whole-machine busy CPU seconds over the
        measured window."""
        await asyncio.sleep(max(0.0, t_measure - time.perf_counter()))
        a = cpu_now()
        await asyncio.sleep(max(0.0, t_end - time.perf_counter()))
        b = cpu_now()
        return b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3]

    cpu_task = asyncio.create_task(sample_cpu())
    await asyncio.gather(*tasks)
    window, client_cpu, server_cpu, machine_cpu = await cpu_task
    lat = sorted(stats.latencies)
    if args.latencies_out:
        Path(args.latencies_out).write_text(json.dumps([round(x * 1000, 4) for x in lat]))
    n = len(lat)

    def pct_ms(q: float) -> float | None:
        # nearest rank: the smallest latency with at least q of the requests at or below it
        return lat[min(n - 1, max(0, math.ceil(q * n) - 1))] * 1000 if n else None

    return {
        "task": "load",
        "tool": args.tool,
        "label": args.label,
        "concurrency": args.concurrency,
        "rows": args.rows,
        "duration_s": args.duration_s,
        "warmup_s": args.warmup_s,
        "requests": n,
        "errors": stats.errors,
        "error_examples": stats.error_examples,
        "warmup_requests": stats.warmup_requests,
        "reconnects": stats.reconnects,
        "answered_ok": stats.answered_ok,
        "req_per_s": n / args.duration_s,
        "rows_per_s": n * args.rows / args.duration_s,
        "p50_ms": pct_ms(0.50),
        "p90_ms": pct_ms(0.90),
        "p99_ms": pct_ms(0.99),
        "max_ms": lat[-1] * 1000 if n else None,
        "mean_ms": statistics.fmean(lat) * 1000 if n else None,
        "cpu_window_s": window,
        "client_cpu_s": client_cpu,
        "server_cpu_s": server_cpu,
        "machine_cpu_s": machine_cpu,
        # What neither this process nor the server's tree used: other processes' share.
        "other_cpu_s": max(0.0, machine_cpu - client_cpu - server_cpu),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tool", choices=sorted(CHECKS), required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--bodies", required=True, help="a JSON file: a list of request bodies")
    parser.add_argument("--rows", type=int, required=True, help="texts in each request")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup-s", type=float, default=2.0)
    parser.add_argument("--duration-s", type=float, default=10.0)
    parser.add_argument("--pid", type=int, default=0, help="the server process (tree) for CPU")
    parser.add_argument("--latencies-out", help="write the window's latencies (ms, JSON) here")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["requests"] and not result["errors"] else 1)


if __name__ == "__main__":
    main()
