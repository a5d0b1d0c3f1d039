"""Trials: a signal to the real `drill run` mid-hold heals, removes its own stack, keeps a `drill stack up` one.

    .venv/bin/python bench/interrupt_trials.py [--trials 5] [--modes own,project] [--signal SIGTERM]
                                               [--scenario scenarios/postgres-leader-unreachable.yaml]

The case: `drill run` of the leader partition, sent SIGTERM during the fault's hold
(at a random point of its first half). `own`: the run's own stack; `project`: one stack of `drill
stack up`, kept for every trial of the mode (it must survive each interruption). After each trial:
the exit status, seconds from the signal to the exit, faults still pending in the ledger, containers
with a DROP rule in their namespace, paused containers; `own`: containers, networks and volumes of
the run left; `project`: containers and volumes all kept, and seconds until the stack is ready again
(every healthcheck, a PostgreSQL leader with both replicas streaming, RabbitMQ, as `drill run` waits).
Writes bench/interrupt_trials_<mode>.json next to this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from drills.faults import ledger, netns
from drills.provision import engine
from drills.stack.project import ComposeProject
from drills.stack.readiness import wait_ready

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "interrupt_trials_{mode}.json"  # one file per mode: modes may run side by side


def drill(*args: str) -> list[str]:
    return [sys.executable, "-m", "drills", *args]


def selector(project: str) -> dict[str, str | list[str] | bool]:
    return {"label": f"com.docker.compose.project={project}"}


def leftovers(client: Any, project: str) -> dict[str, Any]:
    containers = client.containers.list(all=True, filters=selector(project))
    cut = [c.name for c in containers if c.status == "running"
           and "DROP" in netns.run(c, ["iptables", "-w", "-S"]).stdout]
    return {"pending_faults": [e.kind for e in ledger.pending(project)], "cut_off": cut,
            "paused": [c.name for c in containers if c.status == "paused"],
            "containers": sorted(c.name for c in containers),
            "networks": sorted(n.name for n in client.networks.list(filters=selector(project))),
            "volumes": sorted(v.name for v in client.volumes.list(filters=selector(project)))}


class NotSignalled(RuntimeError):
    """The run ended before its hold, so no signal was sent (e.g. the stack never got ready)."""


def one_trial(client: Any, scenario: Path, sig: signal.Signals, project: str | None, reports: Path) -> dict[str, Any]:
    argv = drill("run", *(["--project", project] if project else []), "--reports", str(reports), str(scenario))
    runner = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    assert runner.stderr is not None
    lines: list[str] = []
    hold_s = None
    try:
        deadline = time.monotonic() + 600
        while hold_s is None and time.monotonic() < deadline:
            line = runner.stderr.readline()
            if not line:
                raise NotSignalled(f"drill run ended (exit {runner.wait()}) before its hold:\n{''.join(lines[-30:])}")
            lines.append(line)
            if m := re.search(r"starting stack (\S+)", line):
                project = m.group(1)
            if m := re.search(r": hold (\d+(?:\.\d+)?) s", line):
                hold_s = float(m.group(1))
        if project is None or hold_s is None:
            raise NotSignalled(f"no hold within 600 s:\n{''.join(lines[-30:])}")
        applied = [e.kind for e in ledger.pending(project)]
        delay = random.uniform(0.5, hold_s / 2)
        time.sleep(delay)
        t_signal = time.monotonic()
        runner.send_signal(sig)
        _, rest = runner.communicate(timeout=600)
        exit_s = time.monotonic() - t_signal
    finally:
        if runner.poll() is None:  # the trial itself failed: stop the run the way it heals (SIGTERM)
            runner.send_signal(signal.SIGTERM)
            try:
                runner.wait(600)
            except subprocess.TimeoutExpired:
                runner.kill()
                runner.wait()
    lines.append(rest)
    out = "".join(lines)
    return {"project": project, "applied_at_signal": applied, "signal_after_hold_start_s": round(delay, 1),
            "exit_status": runner.returncode, "signal_to_exit_s": round(exit_s, 1),
            "said": [line for line in out.splitlines() if line.startswith(("aborted", "SIG"))],
            "after": leftovers(client, project)}


def verdict(trial: dict[str, Any], sig: signal.Signals, kept: dict[str, Any] | None) -> list[str]:
    """What went wrong in a trial; empty when it healed and removed or kept what it should."""
    after = trial["after"]
    wrong = []
    if trial["exit_status"] != 128 + sig:
        wrong.append(f"exit status {trial['exit_status']}, not {128 + sig}")
    if not trial["applied_at_signal"]:
        wrong.append("no fault applied when the signal was sent")
    wrong += [f"{k}: {after[k]}" for k in ("pending_faults", "cut_off", "paused") if after[k]]
    if kept is None:
        wrong += [f"left {k}: {after[k]}" for k in ("containers", "networks", "volumes") if after[k]]
    else:
        wrong += [f"{k} not kept" for k in ("containers", "volumes") if after[k] != kept[k]]
        if trial.get("ready_again_s") is None:
            wrong.append(f"not ready again: {trial.get('not_ready')}")
    return wrong


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--modes", default="own,project")
    ap.add_argument("--signal", default="SIGTERM", choices=["SIGTERM", "SIGHUP", "SIGINT"])
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "postgres-leader-unreachable.yaml")
    args = ap.parse_args()
    sig = signal.Signals[args.signal]
    client = engine.client()
    reports = Path(os.environ.get("TMPDIR", "/tmp")) / f"interrupt-trials-{uuid.uuid4().hex[:6]}"
    results: dict[str, list[dict[str, Any]]] = {}
    not_signalled: dict[str, list[str]] = {}  # runs that ended before their hold, with why
    for mode in args.modes.split(","):
        trials = results[mode] = []
        stack = None
        if mode == "project":
            stack = f"drills-trials-{uuid.uuid4().hex[:6]}"
            for _ in range(3):  # a boot that does not get ready under load is no trial: boot again
                done = subprocess.run(drill("stack", "up", "--project", stack, "--timeout", "300"), cwd=ROOT,
                                      capture_output=True, text=True)
                if done.returncode == 0:
                    break
                not_signalled.setdefault(mode, []).append(f"drill stack up: {done.stderr[-300:]}")
                subprocess.run(drill("stack", "down", "--project", stack), cwd=ROOT, capture_output=True)
            else:
                raise RuntimeError(f"{stack} did not get ready in 3 boots")
        try:
            kept = leftovers(client, stack) if stack else None
            attempts = 0
            while len(trials) < args.trials and attempts < 2 * args.trials:
                attempts += 1
                try:
                    trial = one_trial(client, args.scenario, sig, stack, reports)
                except NotSignalled as exc:  # the stack did not get ready (load): no trial, say so
                    not_signalled.setdefault(mode, []).append(str(exc)[-300:])
                    print(f"{mode}: not signalled: {str(exc)[-200:]}", flush=True)
                    continue
                if stack is not None:
                    t0 = time.monotonic()
                    try:
                        wait_ready(ComposeProject.attach(stack, client), timeout_s=180)
                        trial["ready_again_s"] = round(time.monotonic() - t0, 1)
                    except Exception as exc:
                        trial["not_ready"] = str(exc)
                trial["wrong"] = verdict(trial, sig, kept)
                trials.append(trial)
                write(mode, trials, not_signalled.get(mode, []), args)  # after each trial: a slow machine
                print(f"{mode} {len(trials)}/{args.trials}: {'ok' if not trial['wrong'] else trial['wrong']} "
                      f"(exit {trial['exit_status']} {trial['signal_to_exit_s']} s after the signal)", flush=True)
        finally:
            if stack is not None:
                subprocess.run(drill("stack", "down", "--project", stack), cwd=ROOT, capture_output=True)
    for mode, ts in results.items():
        print(mode, json.dumps(write(mode, ts, not_signalled.get(mode, []), args)), flush=True)


def write(mode: str, ts: list[dict[str, Any]], not_signalled: list[str], args: argparse.Namespace) -> dict[str, Any]:
    summary = {"trials": len(ts), "ok": sum(not t["wrong"] for t in ts),
               "signal_to_exit_s": [t["signal_to_exit_s"] for t in ts],
               **({"ready_again_s": [t.get("ready_again_s") for t in ts]} if mode == "project" else {})}
    Path(str(OUT).format(mode=mode)).write_text(json.dumps({
        "what": f"{args.signal} to `drill run {args.scenario.name}` mid-hold ({mode}): healed, "
                + ("own stack removed" if mode == "own" else "`drill stack up` stack kept and ready"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                    "load_average": os.getloadavg()},
        "summary": summary, "not_signalled": not_signalled, "trials": ts}, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()
