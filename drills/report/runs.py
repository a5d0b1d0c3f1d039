"""Runs read back for reporting: which runs, in what order, what they measured, secrets removed.

    find_run_dirs(paths) -> list[Path]      run directories named, or found under reports directories
    load_run(run_dir) -> Run                journal (redacted), manifest, targets and measurements
    trend(runs)                             RTO/RPO over the last runs

Every value that reaches a report goes through `redact` first: keys that name a secret
(password, secret, token, key, credential) lose their value, and any secret value known to this
process (`DRILLS_*PASSWORD`, `*_SECRET`, `*_TOKEN` environment variables) or written inline
(`password=...`, `scheme://user:pass@host`) is masked wherever it appears in text.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drills.core.errors import DrillsError
from drills.records.evidence import read_manifest

if TYPE_CHECKING:
    from drills.spec.assumptions import AssumptionCheck

REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|key|credential|auth", re.IGNORECASE)
SECRET_ENV = re.compile(r"^DRILLS_.*(PASSWORD|SECRET|TOKEN|KEY)$|.*_(PASSWORD|SECRET|TOKEN)$")
INLINE = re.compile(r"(?i)\b(pass(?:word|wd)?|secret|token|api[_-]?key|key)(\s*[=:]\s*)([^\s,;&'\"]+)")
URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):([^@\s/]+)@")
# Keys whose value is a secret even though the key's name does not say so; and keys that only look
# like one (a verdict's measured `sustain_ops` is not a secret; neither is a "monkey").
NOT_SECRET_KEYS = frozenset({"keep_disks", "sha256", "manifest_sha256", "previous"})
STATUSES = ("passed", "failed", "error", "aborted", "not-run")


def secret_values(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return sorted({v for k, v in env.items() if SECRET_ENV.match(k) and len(v) >= 4}, key=len, reverse=True)


def redact_text(text: str, secrets: Sequence[str]) -> str:
    for value in secrets:
        text = text.replace(value, REDACTED)
    text = URL_USERINFO.sub(lambda m: f"{m[1]}:{REDACTED}@", text)
    return INLINE.sub(lambda m: f"{m[1]}{m[2]}{REDACTED}", text)


def redact(obj: Any, secrets: Sequence[str] | None = None) -> Any:
    """A copy of `obj` (JSON-like data) with every secret replaced by [redacted]."""
    known = secret_values() if secrets is None else list(secrets)
    if isinstance(obj, dict):
        out: dict[Any, Any] = {}
        for k, v in obj.items():
            name = str(k)
            if SECRET_KEY.search(name) and name not in NOT_SECRET_KEYS:
                out[k] = _mask(v)
            else:
                out[k] = redact(v, known)
        return out
    if isinstance(obj, list | tuple):
        return [redact(v, known) for v in obj]
    if isinstance(obj, str):
        return redact_text(obj, known)
    return obj


def _mask(value: Any) -> Any:
    """Everything under a secret's key: structure kept, every value masked (booleans and empties say nothing)."""
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask(v) for v in value]
    return value if value is None or value == "" or isinstance(value, bool) else REDACTED


# ---- runs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredMetric:
    """A target and what was measured against it (None: not measured)."""

    kind: str  # RTO | RPO
    subject: str  # the signal
    unit: str  # s | writes | messages
    target: float | None
    measured: float | None
    status: str  # pass | fail | not measured | not run

    @property
    def met(self) -> bool | None:
        if self.target is None or self.measured is None:
            return None
        return self.measured <= self.target


@dataclass
class Run:
    dir: Path
    journal: dict[str, Any]
    manifest: dict[str, Any] | None
    secrets: list[str] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return str(self.journal.get("run_id") or self.dir.name)

    @property
    def status(self) -> str:
        return str(self.journal.get("status") or "unknown")

    @property
    def scenario(self) -> dict[str, Any]:
        sc = self.journal.get("scenario")
        return sc if isinstance(sc, dict) else {}

    @property
    def scenario_id(self) -> str:
        return str(self.scenario.get("id") or "?")

    @property
    def component(self) -> str:
        return str(self.scenario.get("component") or "app")

    @property
    def started_at(self) -> str:
        return str(self.journal.get("started_at") or "")

    @property
    def stack(self) -> dict[str, Any]:
        """The stack drilled, or fitted to (`environment.stack`: name, file, components, roles,
        lacks, access); {} in journals written before it was recorded."""
        found = (self.journal.get("environment") or {}).get("stack")
        return found if isinstance(found, dict) else {}

    @property
    def lacks(self) -> tuple[str, ...]:
        """The roles the scenario needed that its stack has in none of its profiles."""
        found = self.stack.get("lacks")
        return tuple(str(x) for x in found) if isinstance(found, list) else ()

    @property
    def outside_stack(self) -> bool:
        """NOT RUN because its stack lacks a role it needs: it says nothing of that stack's readiness
        (a PostgreSQL-only stack's MongoDB drills), unlike one NOT RUN for an image it could get."""
        return self.status == "not-run" and bool(self.lacks)

    @property
    def provenance(self) -> dict[str, Any]:
        """What made the run, as sealed in its manifest (drills.records.provenance): Drills version and
        commit, host, CI run (`url`), image references, and who signed (`signed_by`: identity,
        algorithm, key fingerprint; None unsigned); the journal's harness version and commit for a
        run sealed before provenance was recorded, everything else "unknown"."""
        sealed = (self.manifest or {}).get("provenance")
        if isinstance(sealed, dict):
            return sealed
        env = self.journal.get("environment") or {}
        return {"drills": {"version": str(env.get("harness_version") or "unknown"),
                           "commit": str(env.get("git_commit") or "unknown")},
                "host": "unknown", "ci": None, "images": env.get("images") or {}, "signed_by": None}

    @property
    def seq(self) -> int | None:
        seq = (self.manifest or {}).get("seq")
        return seq if isinstance(seq, int) else None

    @property
    def verdicts(self) -> list[dict[str, Any]]:
        v = self.journal.get("verdicts")
        return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []

    @property
    def history_path(self) -> Path:
        return self.dir / "history.jsonl"

    def metrics(self) -> list[MeasuredMetric]:
        """RTO and RPO of each expectation with a target (what its checker declares,
        `drills.checkers.protocol.Metric`): targets from the scenario (fixed before the run),
        measurements from the verdicts (None when the run measured nothing)."""
        from drills.checkers.registry import metrics_of, subject_of

        out: list[MeasuredMetric] = []
        by_key = {(v.get("checker"), v.get("subject")): v for v in self.verdicts}
        for exp in self.scenario.get("expectations") or []:
            if not isinstance(exp, dict):
                continue
            subject = subject_of(exp, self.scenario)
            verdict = by_key.get((exp.get("checker"), subject))
            for m in metrics_of(exp.get("checker")):
                if m.target is None:
                    continue  # not a number the policy sets a target for
                target = exp.get(m.target)
                if target is None:
                    if m.target_default is None:
                        continue
                    target = m.target_default(exp, self.scenario, verdict)
                measured = _number(((verdict or {}).get("measured") or {}).get(m.measured))
                status = str(verdict.get("status")) if verdict else ("not run" if self.status == "not-run"
                                                                       else "not measured")
                if measured is None and status == "pass":
                    status = "not measured"  # a verdict may pass on other grounds; this number was not shown
                out.append(MeasuredMetric(m.kind, subject, m.unit, _number(target), measured, status))
        return out

    def assumptions(self) -> list[list[AssumptionCheck]]:
        """Per expectation of the scenario, in its order, its declared assumptions checked against the
        configuration this run read from the stack (`assumptions_of`)."""
        return assumptions_of(self.scenario, self.journal)

    def backup_integrity(self) -> str:
        """What the run says about its backups; "not measured" unless a check of them ran."""
        from drills.checkers.registry import CHECKERS

        for holder in (self.journal, self.journal.get("recovery") or {}):
            value = holder.get("backup_integrity") if isinstance(holder, dict) else None
            if value:
                return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        for v in self.verdicts:
            checker = CHECKERS.get(str(v.get("checker")))
            if checker is not None and checker.backup_evidence:
                return f"{str(v.get('status', '')).upper()}: {v.get('observed', '')}"
        return "not measured"

    def read_history(self) -> list[Any]:
        """Ops and events of history.jsonl with error texts redacted ([] when there is none)."""
        from drills.core.history import Event, Op, parse

        if not self.history_path.exists():
            return []
        items: list[Any] = []
        with self.history_path.open(encoding="utf-8") as fh:
            for item in parse(fh, source=str(self.history_path)):
                if isinstance(item, Op) and item.error:
                    items.append(Op(item.signal, item.process, item.kind, item.value, item.start, item.end,
                                    item.outcome, redact_text(item.error, self.secrets)))
                elif isinstance(item, Event):  # whatever its kind (drills.core.events): only its data is redacted
                    items.append(dataclasses.replace(item, data=redact(item.data, self.secrets)))
                else:
                    items.append(item)
        return items


def assumptions_of(scenario: Mapping[str, Any], journal: Mapping[str, Any]) -> list[list[AssumptionCheck]]:
    """Per expectation of `scenario` (plain, as a journal holds it), each of its `assumes:` checked
    against the configuration the run read back from the stack before its first fault (the
    journal's `environment.effective`, sealed with it), as the runner checked them for its
    verdicts (`drills.run.evaluate`): the same function of the same record. A run that drilled nothing
    (NOT RUN: no phase) makes no claim of a stack, so nothing is checked; one that drilled without
    recording the configuration leaves every assumption unchecked, never held."""
    from drills.core.effective_config import EffectiveConfig
    from drills.spec.assumptions import check_all

    expectations = [e for e in scenario.get("expectations") or [] if isinstance(e, Mapping)]
    if not journal.get("phases"):
        return [[] for _ in expectations]
    doc = (journal.get("environment") or {}).get("effective")
    effective = EffectiveConfig.from_json(doc) if isinstance(doc, Mapping) else None
    return [list(check_all([str(a) for a in e.get("assumes") or []], effective)) for e in expectations]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def load_run(run_dir: Path, secrets: Sequence[str] | None = None) -> Run:
    known = secret_values() if secrets is None else list(secrets)
    try:
        journal = json.loads((run_dir / "journal.json").read_text(encoding="utf-8"))
    except OSError as exc:
        raise DrillsError(f"{run_dir}: no readable journal.json ({exc.strerror or exc})") from None
    except ValueError:
        raise DrillsError(f"{run_dir}/journal.json is not valid JSON", hint="`drill verify` shows what changed") \
            from None
    if not isinstance(journal, dict):
        raise DrillsError(f"{run_dir}/journal.json is not a journal")
    return Run(run_dir, redact(journal, known), read_manifest(run_dir), known)


def find_run_dirs(paths: Iterable[Path]) -> list[Path]:
    """Each path a run directory (has journal.json) or a reports directory holding some."""
    found: list[Path] = []
    for path in paths:
        if (path / "journal.json").is_file():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / "journal.json").is_file())
        else:
            raise DrillsError(f"{path}: neither a run directory nor a reports directory",
                              hint="name reports/ or reports/<run-id>/")
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())


def order(runs: Iterable[Run]) -> list[Run]:
    """By sequence number (sealed runs), then start time; unsealed runs after the sealed ones."""
    return sorted(runs, key=lambda r: (r.seq is None, r.seq or 0, r.started_at, r.run_id))


def chronological(runs: Iterable[Run]) -> list[Run]:
    """By start time (sealed or not), then sequence number: what "latest" and "trend" mean."""
    return sorted(runs, key=lambda r: (r.started_at, r.seq or 0, r.run_id))


def load_runs(paths: Iterable[Path], *, last: int | None = None, secrets: Sequence[str] | None = None) -> list[Run]:
    runs = order(load_run(d, secrets) for d in find_run_dirs(paths))
    return runs[-last:] if last else runs


def reports_dirs(runs: Iterable[Run]) -> list[Path]:
    """The reports directories the runs live in (where their evidence chain is)."""
    return sorted({r.dir.resolve().parent for r in runs})


# ---- summaries --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    run_id: str
    seq: int | None
    started_at: str
    status: str
    metrics: list[MeasuredMetric]


def trend(runs: Sequence[Run], last: int = 10) -> dict[str, list[TrendPoint]]:
    """Per scenario, its last `last` runs in sequence order, each with its RTO/RPO metrics."""
    out: dict[str, list[TrendPoint]] = {}
    for r in chronological(runs):
        out.setdefault(r.scenario_id, []).append(TrendPoint(r.run_id, r.seq, r.started_at, r.status, r.metrics()))
    return {k: v[-last:] for k, v in sorted(out.items())}

