"""Fuzz campaign: malformed scenario files through the validator, and a sample through `drill validate`.

Run: .venv/bin/python bench/validate_fuzz.py [--files 10000] [--cli 300] [--seed 1]
     -> writes bench/validate_fuzz.json

Files are mutations of scenarios/*.yaml (tests/scenario_mutations.py: byte edits, fields moved
between sections, merge keys over bad values, tags, huge integers, deep nesting, alias bombs,
Unicode digits, %YAML directives, files past the size bound). Each goes through
`drills.files.scenario.validate_files` (what `drill validate` and `drill run` call) in this process;
every `--files / --cli`-th one also through the real CLI in a subprocess.

Large fault spaces (`--spaces` runs only these, and updates that entry of the JSON): explorations
whose partition lists up to 1,500 targets and `from` lists of up to 1,000 roles, through
`drills.files.exploration.check_exploration_file` and what `drill explore` computes before drawing (the
space's size, the steps that fit the stack); their checks once took 16-60 s (issue 19).

Promise: every file ends in exit 0 (valid) or exit 2 with located problems
(file:line:col inside the file), never a traceback, none over 5 s. A problem carrying the loader's
last-resort message (drills.files.scenario_yaml.UNFORESEEN) counts as an escape: it is a crash caught
late. Times depend on the machine's load; the load average is recorded with them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from drills.files.scenario import Problem, validate_files  # noqa: E402
from drills.files.scenario_yaml import UNFORESEEN  # noqa: E402
from tests.scenario_mutations import mutate  # noqa: E402

DRILL = str(Path(sys.executable).with_name("drill"))
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
BOUND_S = 5.0


def located(problem: Problem, path: Path, data: bytes) -> bool:
    lines = data.count(b"\n") + 1
    return (problem.file == str(path) and 1 <= problem.line <= lines + 1 and problem.column >= 1
            and bool(problem.message) and UNFORESEEN not in problem.message
            and str(problem).startswith(f"{path}:{problem.line}:{problem.column}: "))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def summary(times: list[float]) -> dict[str, Any]:
    return {"max_s": round(max(times), 3), "p99_s": round(percentile(times, 0.99), 3),
            "p50_s": round(percentile(times, 0.5), 4), "over_bound": sum(t > BOUND_S for t in times)}


def cli_call(path: Path, tmp: Path) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """`drill validate FILE` as a user runs it: the process, its wall time, its peak RSS in KiB
    (from GNU time where present, else 0)."""
    rss_file = tmp / "rss"
    wrap = [TIME, "-f", "%M", "-o", str(rss_file)] if TIME else []
    t0 = time.perf_counter()
    proc = subprocess.run([*wrap, DRILL, "validate", str(path)], capture_output=True, text=True, timeout=300,
                          check=False)
    elapsed = time.perf_counter() - t0
    rss = int(rss_file.read_text().split()[-1]) if TIME and rss_file.exists() else 0
    return proc, elapsed, rss


def run(n_files: int, n_cli: int, seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    outcomes: collections.Counter[str] = collections.Counter()
    escapes: list[dict[str, Any]] = []
    mutations: collections.Counter[str] = collections.Counter()
    times: list[float] = []
    slowest: list[tuple[float, list[str], int]] = []
    cli: dict[str, Any] = {"exits": collections.Counter(), "tracebacks": 0, "unlocated": 0, "times": [],
                           "rss_kib": []}
    every = max(1, n_files // n_cli) if n_cli else 0
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(n_files):
            data, applied = mutate(rnd)
            mutations.update(set(applied))
            path = Path(tmp) / f"f{i}.yaml"
            path.write_bytes(data)
            t0 = time.perf_counter()
            try:
                problems = validate_files([path])
            except BaseException as exc:  # the point is to see every escape
                elapsed = time.perf_counter() - t0
                outcomes["escaped"] += 1
                last = traceback.extract_tb(exc.__traceback__)[-1]
                escapes.append({"file": i, "mutations": applied, "error": f"{type(exc).__name__}: {str(exc)[:200]}",
                                "at": f"{Path(last.filename).name}:{last.lineno}"})
            else:
                elapsed = time.perf_counter() - t0
                if not problems:
                    outcomes["valid (exit 0)"] += 1
                elif all(located(p, path, data) for p in problems):
                    outcomes["located problems (exit 2)"] += 1
                else:
                    outcomes["unlocated or unforeseen"] += 1
                    escapes.append({"file": i, "mutations": applied,
                                    "error": [str(p)[:200] for p in problems if not located(p, path, data)][:3]})
            times.append(elapsed)
            slowest = sorted([*slowest, (elapsed, applied, len(data))], reverse=True)[:5]
            if every and i % every == 0 and len(cli["times"]) < n_cli:
                proc, elapsed, rss = cli_call(path, Path(tmp))
                cli["times"].append(elapsed)
                cli["rss_kib"].append(rss)
                cli["exits"][proc.returncode] += 1
                cli["tracebacks"] += "Traceback" in proc.stderr
                problem_lines = [line for line in proc.stderr.splitlines() if line.startswith(f"{path}:")]
                cli["unlocated"] += proc.returncode == 2 and not problem_lines
            path.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        base = [cli_call(ROOT / "scenarios" / "postgres-leader-kill.yaml", Path(tmp)) for _ in range(10)]
    baseline = {"calls": len(base), "exits": sorted({p.returncode for p, _, _ in base}),
                **summary([t for _, t, _ in base])}
    load_after = os.getloadavg()
    return {
        "command": f"python bench/validate_fuzz.py --files {n_files} --cli {n_cli} --seed {seed}",
        "bound_s": BOUND_S,
        "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 1) for x in load_before],
                    "loadavg_after": [round(x, 1) for x in load_after]},
        "validator": {
            "files": n_files,
            "outcomes": dict(outcomes),
            "other": n_files - outcomes["valid (exit 0)"] - outcomes["located problems (exit 2)"],
            **summary(times),
            "slowest": [{"s": round(t, 3), "mutations": m, "bytes": b} for t, m, b in slowest],
            # of this whole process: generating the mutations and validating 10,000 files
            "peak_rss_mib_of_this_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "escapes": escapes[:20],
        },
        "cli": {
            "calls": len(cli["times"]),
            "exits": {str(k): v for k, v in sorted(cli["exits"].items())},
            "other": sum(v for k, v in cli["exits"].items() if k not in (0, 2)),
            "tracebacks": cli["tracebacks"],
            "exit_2_without_a_located_line": cli["unlocated"],
            **(summary(cli["times"]) if cli["times"] else {}),
            "peak_rss_mib_of_any_call": round(max(cli["rss_kib"]) / 1024, 1) if any(cli["rss_kib"]) else None,
            # the same CLI on a valid 3 KB scenario: what a call costs before any malformed input
            "baseline_valid_scenario": baseline,
        },
        "mutations_applied": dict(sorted(mutations.items())),
    }


SPACES = [  # (targets, `from` lists, roles in each): sizes a fuzz run of issue 19 found slow, and the example's
    (3, 3, 1), (23, 100, 10), (53, 300, 12), (13, 40, 100), (503, 40, 40), (1503, 3, 1000), (1503, 2, 1500)]


def large_spaces() -> dict[str, Any]:
    """Each space of SPACES through the validator and `drill explore`'s preamble: CPU seconds and outcome."""
    from drills.explore.space import single_steps, witness_steps
    from drills.files.exploration import Exploration, check_exploration_file

    example = (ROOT / "explorations" / "postgres-failover.yaml").read_text()
    roles = ["postgres.*", "etcd.*", "clients", "etcd1", "etcd2", "etcd3", "rabbitmq.*", "mongo.*", "pg1", "pg2"]
    out = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for n_targets, n_from, per in SPACES:
            froms = ", ".join("[" + ", ".join(roles[(i + k) % len(roles)] for k in range(per)) + "]"
                              for i in range(n_from))
            targets = ", ".join(["postgres.leader", "postgres.replica", "postgres.*"] +
                                [f"pg{i}" for i in range(n_targets - 3)])
            text = example.replace("from: [[postgres.*], [postgres.*, etcd.*], [clients]]", f"from: [{froms}]")
            text = text.replace("- kind: partition\n      targets: [postgres.leader, postgres.replica, postgres.*]",
                                f"- kind: partition\n      targets: [{targets}]")
            path = Path(tmp) / "space.yaml"
            path.write_text(text)
            t0 = time.process_time()
            exploration, problems = check_exploration_file(path)
            validate_s = time.process_time() - t0
            entry: dict[str, Any] = {
                "targets": n_targets, "from_lists": n_from, "roles_each": per, "bytes": len(text.encode()),
                "combinations": n_targets * n_from * 3, "validate_cpu_s": round(validate_s, 3),
                "outcome": "valid" if exploration else f"{len(problems)} problem(s): {problems[0].message[:160]}"}
            if exploration is None:  # what drill explore computes before drawing, on the space as given
                from drills.core.yaml_locate import to_plain
                from drills.files.scenario_yaml import load_yaml

                exploration = Exploration.model_validate(to_plain(load_yaml(path)))
            t0 = time.process_time()
            total, refused = single_steps(exploration)
            fit = witness_steps(exploration)
            entry.update({"explore_preamble_cpu_s": round(time.process_time() - t0, 3), "steps": total,
                          "refused_steps": refused, "steps_fitted_to_the_stack": len(fit)})
            out.append(entry)
    return {"command": "python bench/validate_fuzz.py --spaces", "bound_s": BOUND_S,
            "machine": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 1) for x in load_before]},
            "over_bound": sum(e["validate_cpu_s"] > BOUND_S or e["explore_preamble_cpu_s"] > BOUND_S for e in out),
            "spaces": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--cli", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "validate_fuzz.json")
    parser.add_argument("--spaces", action="store_true",
                        help="Only the large fault spaces: update their entry of --out, keep the rest.")
    args = parser.parse_args()
    if args.spaces:
        result = json.loads(args.out.read_text()) if args.out.exists() else {}
        result["large_fault_spaces"] = large_spaces()
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result["large_fault_spaces"], indent=2))
        return
    result = {**run(args.files, args.cli, args.seed), "large_fault_spaces": large_spaces()}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "mutations_applied"}, indent=2))


if __name__ == "__main__":
    main()
