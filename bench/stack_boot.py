"""Benchmark: time from `compose up` to a ready stack, and the idle stack's memory.

    .venv/bin/python bench/stack_boot.py [--runs 3] [--settle 10] [--cold-builds] [--out FILE] [--note TEXT]

Each run starts a fresh project (images already built, as `drill setup` leaves them), waits for
every readiness wait of `drill stack up` (PostgreSQL leader + 2 streaming replicas, RabbitMQ
members + led quorum queues, every healthcheck healthy), lets the stack idle `--settle` seconds,
reads each container's memory the way `docker stats` computes it, and tears the stack down.
`--cold-builds` also times each image built from scratch (`--no-cache`, into a throw-away tag).

A boot is never retried here (`drill stack up` boots a stack afresh once when it does not get
ready): a boot that does not get ready within `--timeout` is counted as failed, with the lines
that said why. Per boot also: when each service was first healthy, the 1-minute load average
before and after (the machine may be shared), how many `INTERNAL_ERROR` lines the app services
logged, and whether any app quorum queue was declared before every RabbitMQ member had finished
booting (the cause of the 541s: drills.components._rabbitmq_api).
Writes bench/stack_boot.json next to this file, or `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from drills.components._rabbitmq_api import QUEUES
from drills.core.errors import StackError
from drills.provision import base_image, engine
from drills.provision.images import discover, ensure_images
from drills.stack import ComposeProject
from drills.stack.project import NotReady

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.rabbit_logs import declared_too_early  # the tests' reading of the broker logs

OUT = Path(__file__).with_suffix(".json")
MIB = 1024 * 1024


def memory_bytes(stats: dict[str, Any]) -> int:
    """`docker stats` MEM USAGE: usage minus inactive page cache (cgroup v1 and v2)."""
    mem = stats.get("memory_stats") or {}
    usage = int(mem.get("usage", 0))
    inner = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in inner and int(inner[key]) < usage:
            return usage - int(inner[key])
    return usage


def stack_memory(sp: ComposeProject) -> dict[str, float]:
    containers = sp.client.containers.list(filters={"label": f"io.drills.project={sp.project}"})
    with ThreadPoolExecutor(max_workers=8) as pool:
        stats = list(pool.map(lambda c: (c.labels["com.docker.compose.service"],
                                         c.stats(stream=False, one_shot=True)), containers))
    return {service: round(memory_bytes(s) / MIB, 1) for service, s in sorted(stats)}


def first_healthy(sp: ComposeProject, t0: float, stop: threading.Event) -> dict[str, float]:
    """Seconds from `t0` until each service was first seen running healthy (polled every 0.5 s)."""
    seen: dict[str, float] = {}
    while not stop.wait(0.5):
        try:
            for service, info in sp.snapshot().items():
                if service not in seen and info.state == "running" and info.health == "healthy":
                    seen[service] = round(time.monotonic() - t0, 1)
        except Exception:  # a snapshot during `compose up` may fail: poll again
            continue
    return seen


def broker_evidence(sp: ComposeProject) -> dict[str, Any]:
    logs = {}
    internal_errors = 0
    for c in sp.client.containers.list(all=True, filters={"label": f"com.docker.compose.project={sp.project}"}):
        service = c.labels["com.docker.compose.service"]
        text = c.logs().decode(errors="replace")
        if service.startswith("rabbit"):
            logs[service] = text
        elif c.labels.get("io.drills.tier") == "app":
            internal_errors += text.count("INTERNAL_ERROR")
    return {"app_internal_error_lines": internal_errors, "declared_too_early": declared_too_early(logs, QUEUES)}


def one_run(client: Any, images: dict[str, str], settle_s: float, timeout_s: float) -> dict[str, Any]:
    sp = ComposeProject.create(client=client, images=images)
    load_before = round(os.getloadavg()[0], 1)
    t0 = time.monotonic()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        watcher = pool.submit(first_healthy, sp, t0, stop)
        run: dict[str, Any] = {"project": sp.project, "load_1min_before": load_before}
        try:
            try:
                report = sp.up(timeout_s=timeout_s, reboots=0)
            except NotReady as exc:
                run.update(ok=False, error=str(exc)[:1500])
            else:
                run.update(ok=True, compose_up_s=round(report.compose_s, 2),
                           ready_s={k: round(v, 2) for k, v in sorted(report.ready_s.items())},
                           all_ready_s=round(report.total_s, 2))
            run["load_1min_after"] = round(os.getloadavg()[0], 1)
            stop.set()
            run["first_healthy_s"] = dict(sorted(watcher.result().items(), key=lambda kv: kv[1]))
            run.update(broker_evidence(sp))
            if run["ok"] and settle_s > 0:
                time.sleep(settle_s)
                run["memory_mib"] = memory = stack_memory(sp)
                run["memory_total_mib"] = round(sum(memory.values()), 1)
        finally:
            stop.set()
            t1 = time.monotonic()
            try:
                sp.down()
            except StackError as exc:  # e.g. an engine that keeps a stale endpoint: keep the figures
                run["down_error"] = str(exc)
            run["down_s"] = round(time.monotonic() - t1, 2)
    return run


def spread(values: list[float]) -> dict[str, float] | None:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)} if values else None


def cold_builds(client: Any) -> dict[str, dict[str, float]]:
    base = base_image.resolve(client)
    results = {}
    for spec in discover():
        tag = f"drills/bench-{spec.name}:cold"
        t0 = time.monotonic()
        subprocess.run(["docker", "build", "-q", "--no-cache", "--network", "host", "--build-arg",
                        f"BASE_IMAGE={base}", "-t", tag, str(spec.context)], check=True, capture_output=True)
        elapsed = time.monotonic() - t0
        size = int(client.images.get(tag).attrs["Size"])
        subprocess.run(["docker", "rmi", "-f", tag], check=False, capture_output=True)
        results[spec.name] = {"build_s": round(elapsed, 1), "size_mb": round(size / 1e6)}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before reading memory")
    parser.add_argument("--timeout", type=float, default=120.0, help="readiness timeout per boot (s)")
    parser.add_argument("--cold-builds", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--note", default="", help="what else ran on the machine, in the result")
    args = parser.parse_args()

    client = engine.client()
    images = ensure_images(client)
    sizes = {tag.split("/", 1)[1].split(":")[0]: round(int(client.images.get(tag).attrs["Size"]) / 1e6)
             for tag in sorted(images.values())}
    runs = []
    for i in range(args.runs):
        run = one_run(client, images, args.settle, args.timeout)
        outcome = f"ready in {run['all_ready_s']} s {run['ready_s']}" if run["ok"] else "NOT READY"
        print(f"run {i + 1}: {outcome}, load {run['load_1min_before']}->{run['load_1min_after']}, "
              f"{run['app_internal_error_lines']} INTERNAL_ERROR lines, declared too early: "
              f"{run['declared_too_early'] or 'no'}", file=sys.stderr)
        runs.append(run)
    ready = [r["all_ready_s"] for r in runs if r["ok"]]
    memory = [r["memory_total_mib"] for r in runs if "memory_total_mib" in r]
    result: dict[str, Any] = {
        "what": "compose up -> every readiness wait of `drill stack up` passed (no fresh boot); memory after idling",
        "note": args.note,
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "docker": client.version().get("Version"), "python": platform.python_version()},
        "image_sizes_mb": sizes,
        "settle_s": args.settle,
        "runs": runs,
        "summary": {
            "boots": len(runs),
            "ready": len(ready),
            "with_app_internal_errors": sum(1 for r in runs if r["app_internal_error_lines"]),
            "declared_too_early": sum(1 for r in runs if r["declared_too_early"]),
            "all_ready_s": spread(ready),
            "memory_total_mib": spread(memory),
            "load_1min_before": spread([r["load_1min_before"] for r in runs]),
        },
    }
    if args.cold_builds:
        result["cold_builds"] = cold_builds(client)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"]), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
