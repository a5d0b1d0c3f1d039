"""Benchmark: time from `compose up` to a ready stack, and the idle stack's memory.

    .venv/bin/python bench/stack_boot.py [--runs 3] [--settle 10] [--cold-builds]

Each run starts a fresh project (images already built, as `drill setup` leaves them), waits for
every readiness wait of `drill stack up` (PostgreSQL leader + 2 streaming replicas, RabbitMQ
members + led quorum queues, every healthcheck healthy), lets the stack idle `--settle` seconds,
reads each container's memory the way `docker stats` computes it, and tears the stack down.
`--cold-builds` also times each image built from scratch (`--no-cache`, into a throw-away tag).
Writes bench/stack_boot.json next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from drills.provision import base_image, engine
from drills.provision.images import discover, ensure_images
from drills.stack import ComposeProject

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


def one_run(client: Any, images: dict[str, str], settle_s: float) -> dict[str, Any]:
    sp = ComposeProject.create(client=client, images=images)
    try:
        report = sp.up(timeout_s=120)
        time.sleep(settle_s)
        memory = stack_memory(sp)
    finally:
        t0 = time.monotonic()
        sp.down()
        down_s = time.monotonic() - t0
    return {
        "project": sp.project,
        "compose_up_s": round(report.compose_s, 2),
        "ready_s": {k: round(v, 2) for k, v in sorted(report.ready_s.items())},
        "all_ready_s": round(report.total_s, 2),
        "down_s": round(down_s, 2),
        "memory_mib": memory,
        "memory_total_mib": round(sum(memory.values()), 1),
    }


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
    parser.add_argument("--cold-builds", action="store_true")
    args = parser.parse_args()

    client = engine.client()
    images = ensure_images(client)
    sizes = {tag.split("/", 1)[1].split(":")[0]: round(int(client.images.get(tag).attrs["Size"]) / 1e6)
             for tag in sorted(images.values())}
    runs = []
    for i in range(args.runs):
        run = one_run(client, images, args.settle)
        print(f"run {i + 1}: ready in {run['all_ready_s']} s {run['ready_s']}, "
              f"{run['memory_total_mib']} MiB", file=sys.stderr)
        runs.append(run)
    ready = [r["all_ready_s"] for r in runs]
    memory = [r["memory_total_mib"] for r in runs]
    result: dict[str, Any] = {
        "what": "compose up -> every readiness wait of `drill stack up` passed; memory after idling",
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "docker": client.version().get("Version"), "python": platform.python_version()},
        "image_sizes_mb": sizes,
        "settle_s": args.settle,
        "runs": runs,
        "summary": {
            "all_ready_s": {"min": min(ready), "median": statistics.median(ready), "max": max(ready)},
            "memory_total_mib": {"min": min(memory), "median": statistics.median(memory), "max": max(memory)},
        },
    }
    if args.cold_builds:
        result["cold_builds"] = cold_builds(client)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"]), file=sys.stderr)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
