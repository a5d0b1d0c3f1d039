"""The DR-readiness report: runs in, one self-contained HTML file, one Markdown file and/or a PDF out.

    build_context(runs, ...) -> dict          everything the templates show, secrets already removed
    render(runs, out_dir, formats) -> [Path]  drill-report.html / .md (+ timelines/*.svg for Markdown) / .pdf

Jinja2 templates (`templates/report.html.j2`, `templates/report.md.j2`). The HTML is autoescaped:
every string from a journal is escaped, only the SVG this package draws is marked safe. The
Markdown is not HTML-escaped (`run's` must read `run's` in the file, not `run&#39;s`); instead
every value is Markdown-escaped where it could start raw HTML (`<script>` in a scenario title
gets a backslash before its `<`: text in every renderer), and table cells escape `|` (`mdcell`). The
HTML has its CSS inline and its plots as inline SVG: it opens offline, from a CI artifact or an
e-mail attachment. The PDF is that HTML printed (drills.report.pdf).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drills import __version__
from drills.checkers.registry import subject_of
from drills.core.effective_config import EffectiveConfig, fingerprint
from drills.records.evidence import Verified, verify
from drills.report.explorations import ExplorationView
from drills.report.readiness import components, not_in_stack
from drills.report.repeats import PERCENTILE_METHOD, aggregate, fmt_value, pass_rate_text, sample_of_run
from drills.report.runs import Run, assumptions_of, chronological, reports_dirs, trend
from drills.report.strip import distribution_svg
from drills.report.timeline import system_rows, timeline_svg, trend_svg
from drills.stack.effective_text import LABELS, every_part, lines
from drills.workload.pacing import Pacing

REPORT_NAME = "drill-report"
TIMELINES = "drill-report-timelines"

# What auditors ask for, where the report answers it, and which controls ask.
CONTROLS: list[tuple[str, str, str]] = [
    ("Objective and scope of the test", "per scenario: objective, scope (component, stack, fault targets, signals)",
     "ISO 22301 §8.5; ISO/IEC 27001 A.5.30; DORA art. 24"),
    ("Success criteria fixed before the test", "expectations with tolerances and their justification, from the "
     "scenario file whose hash the run's manifest sealed", "ISO 22301 §8.5; SOC 2 A1.3; DORA art. 24"),
    ("Scenario exercised", "policy text encoded, fault steps, timeline", "ISO 22301 §8.5; SOC 2 A1.3; DORA art. 11"),
    ("Date, time, who or what ran it", "run sequence: started/ended, sealed by (user, host, CI run)",
     "SOC 2 A1.3, CC7.5; DORA art. 24"),
    ("Expected vs actual outcome", "verdicts: documented expectation, measured values, PASS/FAIL/NOT MEASURED",
     "ISO 22301 §8.5; SOC 2 A1.3; ISO/IEC 27001 A.5.30"),
    ("RTO / RPO targets vs measured", "per scenario RTO/RPO table; trend over the last runs",
     "ISO/IEC 27001 A.5.30; DORA art. 11, 12; SOC 2 A1.3"),
    ("Backup integrity", "per scenario backup integrity result (or \"not measured\")",
     "SOC 2 A1.2; DORA art. 12; ISO/IEC 27001 A.5.30"),
    ("Recovery from incidents exercised", "fault windows, recovery markers, resync verdicts",
     "SOC 2 CC7.5; DORA art. 11"),
    ("Issues found and remediation", "issues list (failed or not measured expectations, errors) with a "
     "remediation column for the owner", "ISO 22301 §8.5, §10.1; SOC 2 CC7.5; DORA art. 24"),
    ("Every test recorded, none omitted", "gapless sequence numbers; failed, aborted and NOT RUN runs included",
     "SOC 2 A1.3; DORA art. 24"),
    ("Evidence complete and unaltered", "evidence integrity: SHA-256 manifest per run, hash chain, `drill verify`",
     "SOC 2 CC7.5; ISO/IEC 27001 A.5.30; DORA art. 12"),
    ("Environment tested", "environment fingerprint: harness version and commit, scenario hashes, images, host; "
     "per run, the effective configuration drilled, read back from the running stack",
     "ISO 22301 §8.5; DORA art. 24"),
    ("Review of results", "review block: reviewer, date, decision", "ISO 22301 §8.5; SOC 2 A1.3; DORA art. 24"),
]

# A repeat verdict's colour (drills.report.repeats).
_VERDICT_CLASS = {"MET": "pass", "FLAKY": "fail", "NOT MET": "fail"}

# Measured values not worth a column in a report (samples are in the journal).
_HIDDEN_MEASURED = ("lost_sample", "unexpected_sample")


def _status_class(status: str) -> str:
    s = status.lower()
    if s in ("pass", "passed", "ready"):
        return "pass"
    if s in ("fail", "failed", "error", "aborted", "not ready"):
        return "fail"
    return "warn"


def _num(value: Any) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def _opt(value: Any, missing: str = "—", suffix: str = "") -> str:
    return missing if value is None else _num(value) + suffix


def _seq(value: int | None) -> str:
    return "unsealed" if value is None else str(value)


# Where CommonMark starts raw HTML or an autolink: `<` before a tag name, `/`, `!` or `?`.
_MD_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")


def _md_text(value: Any) -> Any:
    """A value printed into the Markdown report: a `<` that would open raw HTML is backslash-escaped
    (it renders as `<`); `<= 7` and everything else is left as written."""
    return _MD_HTML_START.sub(r"\\<", value) if isinstance(value, str) else value


def _mdcell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _scenario_hash(scenario: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(scenario, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _expectations(scenario: dict[str, Any], journal: dict[str, Any]) -> list[dict[str, Any]]:
    """Each expectation with its bound, its why, and its declared assumptions checked against the
    configuration the run read from the stack drilled (`assumptions_of`): a broken one is shown
    beside it, "this bound assumes X; the stack runs Y"."""
    assumed = assumptions_of(scenario, journal)
    out = []
    for exp, results in zip([e for e in scenario.get("expectations") or [] if isinstance(e, dict)], assumed,
                            strict=True):
        subject = subject_of(exp, scenario)
        tolerances = {k: v for k, v in exp.items()
                      if k not in ("checker", "signal", "signals", "component", "why", "assumes") and v is not None}
        out.append({"checker": exp.get("checker"), "subject": subject, "tolerances": tolerances,
                    "why": str(exp.get("why") or ""), "assumptions": [_assumption(a) for a in results]})
    return out


def _assumption(result: Any) -> dict[str, str]:
    """An assumption as the report shows it: held quietly, broken or unchecked loudly."""
    label = {"held": "held", "broken": "BROKEN", "unchecked": "UNCHECKED"}[result.status]
    text = result.text if result.status != "held" else f"assumes {result.assumes} (the stack runs {result.runs})"
    return {"status": result.status, "label": label, "text": text,
            "cls": {"held": "pass", "broken": "fail"}.get(result.status, "warn")}


def _verdict_assumptions(verdict: dict[str, Any]) -> list[dict[str, str]]:
    """The assumptions the runner recorded with a verdict that did not hold (the journal's words)."""
    from drills.spec.assumptions import AssumptionCheck

    recorded = [AssumptionCheck.from_json(a) for a in verdict.get("assumptions") or [] if isinstance(a, dict)]
    return [_assumption(a) for a in recorded if a.status != "held"]


def _stack_drilled(scenario: dict[str, Any], journal: dict[str, Any]) -> str:
    """The stack file (and its Compose files) the run recorded; journals of older versions named
    the Compose file in the scenario."""
    effective = (journal.get("environment") or {}).get("effective")
    drilled = effective.get("stack") if isinstance(effective, dict) else None
    if isinstance(drilled, dict) and drilled.get("name"):
        files = ", ".join(Path(str(f)).name for f in drilled.get("compose_files") or [])
        return f"{drilled['name']}" + (f" (Compose files {files})" if files else "")
    stack = scenario.get("stack") or {}
    if stack.get("file"):
        return str(stack["file"]) + (f" (profiles: {', '.join(stack['profiles'])})" if stack.get("profiles") else "")
    return "not recorded"


def _scope(scenario: dict[str, Any], journal: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in scenario.get("steps") or [] if isinstance(s, dict)]
    return {
        "component": scenario.get("component") or "app",
        "stack": _stack_drilled(scenario, journal),
        "faults": [f"{s.get('fault')} {s.get('target')} for {_num(s.get('hold'))} s"
                   + ("" if s.get("heal", True) else ", not healed") for s in steps],
        "signals": [f"{k} at {_num((v or {}).get('rate'))}/s" for k, v in (scenario.get("workload") or {}).items()],
        "requires": list(scenario.get("requires") or []),
    }


def _effective(journal: dict[str, Any]) -> dict[str, Any]:
    """The configuration drilled, as the run read it back from the stack before its first fault, and
    what a second read at its end found changed. A run that recorded none says so: never blank."""
    env = journal.get("environment") or {}
    doc = env.get("effective")
    if not isinstance(doc, dict):
        why = "no stack was drilled" if not journal.get("phases") else "this run's journal holds none"
        return {"lines": [], "missing": f"not recorded: {why}", "read_s": None, "after": None}
    config = EffectiveConfig.from_json(doc)
    after = env.get("effective_after")
    end: dict[str, Any] | None = None
    if isinstance(after, dict):
        unknown = after.get("not_compared") or {}
        end = {"changes": [str(c) for c in after.get("changes") or []],
               "not_compared": [f"{LABELS.get(str(k), k)} ({v})" for k, v in unknown.items()]}
    return {"lines": [{"label": label, "text": text, "cls": "alert" if text.startswith("NOT READ") else ""}
                      for label, text in lines(config)],
            "missing": "", "read_s": config.read_s, "after": end}


def _run_view(run: Run, *, timeline_file: str | None) -> dict[str, Any]:
    j, sc = run.journal, run.scenario
    manifest = run.manifest or {}
    verdicts = []
    for v in run.verdicts:
        measured = {k: x for k, x in (v.get("measured") or {}).items() if k not in _HIDDEN_MEASURED}
        verdicts.append({**v, "measured": measured, "status": str(v.get("status", "")),
                         "cls": _status_class(str(v.get("status", ""))), "not_held": _verdict_assumptions(v)})
    items = run.read_history() if run.status != "not-run" else []
    svg = timeline_svg(items, j, signals_first=list(sc.get("workload") or {})) if items else None
    system, system_more = system_rows(items, j)
    inputs = manifest.get("inputs") or {}
    return {
        "seq": run.seq, "run_id": run.run_id, "dir": str(run.dir), "status": run.status,
        "cls": _status_class(run.status), "reason": j.get("reason") or "",
        "started_at": j.get("started_at", ""), "ended_at": j.get("ended_at", ""),
        "scenario_id": run.scenario_id, "title": sc.get("title", run.scenario_id), "policy": sc.get("policy", ""),
        "objective": f"Show that the documented outcome holds when: {sc.get('title', run.scenario_id)}.",
        "scope": _scope(sc, j), "effective": _effective(j), "expectations": _expectations(sc, j), "verdicts": verdicts,
        "metrics": [{"kind": m.kind, "subject": m.subject, "unit": m.unit, "target": _num(m.target),
                     "measured": _num(m.measured), "status": m.status, "cls": _status_class(m.status)}
                    for m in run.metrics()],
        "backup_integrity": run.backup_integrity(), "phases": j.get("phases") or [], "faults": j.get("faults") or [],
        "recovery": j.get("recovery") or {}, "timings": j.get("timings") or {},
        "sealed_by": manifest.get("sealed_by"), "sealed_at": manifest.get("sealed_at"),
        "scenario_file": j.get("scenario_file", ""),
        "scenario_file_sha256": (inputs.get("scenario_file") or {}).get("sha256"),
        "scenario_sha256": _scenario_hash(sc), "svg": svg, "timeline_file": timeline_file if svg else None,
        "provenance": _provenance(run),
        # What the system logged it did (drills.stack.logs): None when the run kept no logs (older runs).
        "system": system if (run.dir / "logs").is_dir() or system else None, "system_more": system_more,
    }


def _provenance(run: Run) -> dict[str, str]:
    """What made the run, where, under which CI run, with which images, signed by whom: one line each."""
    p = run.provenance
    drills, ci, signed = p.get("drills") or {}, p.get("ci"), p.get("signed_by")
    digests = p.get("image_digests") or {}
    if "error" in digests:
        images = f"not recorded ({digests['error']})"
    elif digests:
        images = "; ".join(f"{name}: {d.get('image') or '?'} {d.get('id') or '?'}" for name, d in digests.items())
    else:
        tags = "; ".join(f"{k}: {v}" for k, v in (p.get("images") or {}).items())
        images = f"{tags or 'none named'} (tags only: digests not recorded)"
    return {
        "drills": f"{drills.get('version', 'unknown')} (commit {drills.get('commit', 'unknown')})",
        "host": str(p.get("host") or "unknown"),
        "ci": "not a CI run" if not ci else str(ci.get("url") or f"{ci.get('provider')} run "
                                                                  f"{ci.get('run_id') or '(no id)'}"),
        "signed": "UNSIGNED" if not signed else f"{signed.get('identity', '?')} ({signed.get('algorithm', '?')}, "
                                                 f"{signed.get('fingerprint', '?')})",
        "images": images,
    }


def _stacks(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Each stack the runs drilled or were fitted to (`environment.stack`), once: its name and file,
    components and roles, and the runs of it; runs that recorded none are not listed."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for r in runs:
        stack = r.stack
        if not stack.get("name"):
            continue
        entry = found.setdefault((str(stack["name"]), str(stack.get("file") or "")), {
            "name": str(stack["name"]), "file": str(stack.get("file") or ""),
            "overrides": [str(o) for o in stack.get("overrides") or []],
            "components": [str(c) for c in stack.get("components") or []], "roles": "", "runs": 0})
        roles = stack.get("roles")
        if isinstance(roles, dict) and roles and not entry["roles"]:
            entry["roles"] = "; ".join(f"{role}: {', '.join(map(str, services))}"
                                       for role, services in sorted(roles.items()) if isinstance(services, list))
        entry["runs"] += 1
    return [found[k] for k in sorted(found)]


def _environment(runs: Sequence[Run]) -> dict[str, Any]:
    harness = sorted({(str(r.journal.get("environment", {}).get("harness_version")),
                       str(r.journal.get("environment", {}).get("git_commit") or "unknown")) for r in runs})
    images: dict[str, set[str]] = {}
    hosts: set[str] = set()
    pythons: set[str] = set()
    for r in runs:
        env = r.journal.get("environment") or {}
        for name, ref in (env.get("images") or {}).items():
            images.setdefault(str(name), set()).add(str(ref))
        host = env.get("host") or {}
        if host:
            hosts.add(", ".join(f"{k} {v}" for k, v in sorted(host.items())))
        if env.get("python"):
            pythons.add(str(env["python"]))
    scenarios: dict[str, dict[str, set[str]]] = {}
    for r in runs:
        entry = scenarios.setdefault(r.scenario_id, {"file": set(), "file_sha256": set(), "definition_sha256": set()})
        entry["file"].add(str(r.journal.get("scenario_file", "")))
        sha = ((r.manifest or {}).get("inputs") or {}).get("scenario_file", {}).get("sha256")
        if sha:
            entry["file_sha256"].add(str(sha))
        entry["definition_sha256"].add(_scenario_hash(r.scenario))
    return {
        "stacks": _stacks(runs),
        "effective": _configurations(runs),
        "harness": [{"version": v, "commit": c} for v, c in harness],
        "images": {k: sorted(v) for k, v in sorted(images.items())}, "hosts": sorted(hosts),
        "python": sorted(pythons),
        "scenarios": {k: {f: sorted(v) for f, v in e.items()} for k, e in sorted(scenarios.items())},
        "reporter": {"harness_version": __version__},
    }


def _configurations(runs: Sequence[Run]) -> list[dict[str, Any]]:
    """Each distinct effective configuration drilled (`fingerprint`), with the runs that drilled it;
    runs that recorded none are listed as such."""
    found: dict[str, dict[str, Any]] = {}
    for r in runs:
        doc = (r.journal.get("environment") or {}).get("effective")
        key = fingerprint(every_part(EffectiveConfig.from_json(doc))) if isinstance(doc, dict) else ""
        name = str((doc or {}).get("stack", {}).get("name") or "") if isinstance(doc, dict) else ""
        entry = found.setdefault(key, {"sha256": key[:12] or None, "stack": name, "runs": []})
        entry["runs"].append(f"#{_seq(r.seq)}")
    return sorted(found.values(), key=lambda e: e["sha256"] is None)  # in order of first use; none last


def _issues(runs: Sequence[Run]) -> list[dict[str, str]]:
    out = []
    for r in runs:
        if r.status in ("error", "aborted"):
            out.append({"seq": _seq(r.seq), "run_id": r.run_id, "scenario": r.scenario_id,
                        "issue": f"{r.status.upper()}: {r.journal.get('reason') or 'no reason recorded'}"})
        for v in r.verdicts:
            if v.get("status") != "pass":
                out.append({"seq": _seq(r.seq), "run_id": r.run_id, "scenario": r.scenario_id,
                            "issue": f"{str(v.get('status', '')).upper()} {v.get('checker')} {v.get('subject')}: "
                                     f"expected {v.get('expectation')}; observed {v.get('observed')}"})
        for paced in r.journal.get("pacing") or []:
            if paced.get("status") == "not-held":  # the run's verdicts stand; its clients' timings are bounds
                pacing = Pacing.from_json(paced)
                out.append({"seq": _seq(r.seq), "run_id": r.run_id, "scenario": r.scenario_id,
                            "issue": f"PACING {pacing.signal}: {pacing.account()}"})
        for exp in _expectations(r.scenario, r.journal):
            for a in exp["assumptions"]:
                if a["status"] != "held":
                    out.append({"seq": _seq(r.seq), "run_id": r.run_id, "scenario": r.scenario_id,
                                "issue": f"ASSUMPTION {a['label']} {exp['checker']} {exp['subject']}: {a['text']}"})
    return out


def _trends(runs: Sequence[Run], last: int) -> list[dict[str, Any]]:
    out = []
    for scenario_id, points in trend(runs, last).items():
        series: dict[tuple[str, str, str], list[tuple[str, float | None, str]]] = {}
        targets: dict[tuple[str, str, str], float | None] = {}
        for p in points:
            for m in p.metrics:
                key = (m.kind, m.subject, m.unit)
                series.setdefault(key, []).append((f"#{_seq(p.seq)} {p.run_id}", m.measured, m.status))
                targets[key] = m.target  # the latest target
        metrics = []
        for key, values in series.items():
            kind, subject, unit = key
            metrics.append({"kind": kind, "subject": subject, "unit": unit, "target": _num(targets[key]),
                            "points": [{"label": label, "value": _num(v), "status": s,
                                        "cls": _status_class(s)} for label, v, s in values],
                            "svg": trend_svg(values, targets[key], unit)})
        out.append({"scenario": scenario_id, "runs": [{"seq": _seq(p.seq), "run_id": p.run_id, "status": p.status,
                                                       "cls": _status_class(p.status)} for p in points],
                    "metrics": metrics})
    return out


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", text)


def _repeats(runs: Sequence[Run], svg_dir: str | None) -> list[dict[str, Any]]:
    """Scenarios with two runs or more among those reported: pass rate, flakiness, distributions."""
    samples = [sample_of_run(r) for r in chronological(runs)]
    out = []
    for rep in aggregate(samples):
        if len(rep.samples) < 2:
            continue
        svg = distribution_svg(rep.metrics, runs=len(rep.samples))
        svg_file = f"{svg_dir}/repeats-{_safe_name(rep.scenario_id)}.svg" if svg and svg_dir else None
        out.append({
            "scenario": rep.scenario_id, "runs": len(rep.samples), "pass_rate": pass_rate_text(rep),
            "verdict": rep.verdict, "cls": _VERDICT_CLASS.get(rep.verdict, "warn"),
            "metrics": [{"label": d.key.label, "kind": d.key.kind, "subject": d.key.subject, "unit": d.key.unit,
                         "target": fmt_value(d.target, d.key.unit) if d.target is not None else "—", "n": d.n,
                         "not_measured": d.not_measured, "over_target": d.over_target,
                         **{k: fmt_value(getattr(d, k), d.key.unit) if d.n else "—"
                            for k in ("min", "p50", "p95", "max")}} for d in rep.metrics],
            "svg": svg or None, "svg_file": svg_file,
        })
    return out


def build_context(runs: Sequence[Run], *, trend_last: int = 10, timelines_dir: str | None = None,
                  verified: Sequence[Verified] | None = None,
                  explorations: Sequence[ExplorationView] = ()) -> dict[str, Any]:
    checks = list(verified) if verified is not None else [verify(d) for d in reports_dirs(runs)]
    statuses = {s: sum(1 for r in runs if r.status == s) for s in ("passed", "failed", "error", "aborted", "not-run")}
    seqs = [r.seq for r in runs if r.seq is not None]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "version": __version__,
        "runs": [_run_view(r, timeline_file=f"{timelines_dir}/{r.run_id}.svg" if timelines_dir else None)
                 for r in runs],
        "statuses": statuses, "first_seq": min(seqs, default=None), "last_seq": max(seqs, default=None),
        "components": [{"component": c.component, "readiness": c.readiness, "cls": _status_class(c.readiness),
                        "note": c.note, "scenarios": c.scenarios, "counts": c.counts,
                        "latest": [{"scenario": v.latest.scenario_id, "status": v.latest.status,
                                    "cls": _status_class(v.latest.status), "seq": _seq(v.latest.seq),
                                    "run_id": v.latest.run_id, "verdict": v.verdict, "passed": v.passed,
                                    "runs": v.runs, "verdict_cls": _VERDICT_CLASS.get(v.verdict, "warn"),
                                    "not_held": list(v.not_held)}
                                   for v in c.verdicts]}
                       for c in components(runs)],
        "not_in_stack": not_in_stack(runs).text(),
        "controls": CONTROLS,
        "evidence": [{"reports_dir": str(v.reports_dir), "intact": v.intact, "runs": v.runs, "head_seq": v.head_seq,
                      "head_sha256": v.head_sha256, "findings": [str(f) for f in v.findings],
                      "gaps": [str(f) for f in v.findings if f.kind in ("gap", "unsealed")]} for v in checks],
        "environment": _environment(runs), "issues": _issues(runs), "trends": _trends(runs, trend_last),
        "repeats": _repeats(runs, timelines_dir), "percentile_method": PERCENTILE_METHOD,
        "explorations": [_exploration_view(e) for e in explorations],
    }


def _exploration_view(e: ExplorationView) -> dict[str, Any]:
    """Every field of the view as the templates read it, with the ones shown as words made words."""
    return {**dataclasses.asdict(e), "folder": str(e.folder), "cls": e.cls, "is_finding": e.is_finding,
            "stack": e.stack or "?", "budget": f"{e.budget_s:g} s" if e.budget_s is not None else "?",
            "guided": "unguided" if e.guided is False else "guided" if e.guided else ""}


def _env(markdown: bool = False) -> Any:
    """The HTML environment escapes for HTML; the Markdown one escapes for Markdown (see the module doc)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("drills.report", "templates"), undefined=StrictUndefined,
                      autoescape=not markdown, finalize=_md_text if markdown else None,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["mdcell"] = _mdcell
    env.filters["opt"] = _opt
    return env


def render(runs: Sequence[Run], out_dir: Path, formats: Sequence[str] = ("html", "md"), *,
           trend_last: int = 10, explorations: Sequence[ExplorationView] = ()) -> list[Path]:
    """Write the report(s) to `out_dir`; the paths written."""
    from markupsafe import Markup

    out_dir.mkdir(parents=True, exist_ok=True)
    env = _env()
    written: list[Path] = []
    context = build_context(runs, trend_last=trend_last, timelines_dir=TIMELINES if "md" in formats else None,
                            explorations=explorations)
    if "html" in formats or "pdf" in formats:
        html_ctx = {**context, "runs": [{**r, "svg": Markup(r["svg"]) if r["svg"] else None} for r in context["runs"]],
                    "trends": [{**t, "metrics": [{**m, "svg": Markup(m["svg"])} for m in t["metrics"]]}
                               for t in context["trends"]],
                    "repeats": [{**r, "svg": Markup(r["svg"]) if r["svg"] else None} for r in context["repeats"]]}
        html = env.get_template("report.html.j2").render(**html_ctx)
        if "html" in formats:
            path = out_dir / f"{REPORT_NAME}.html"
            path.write_text(html, encoding="utf-8")
            written.append(path)
        if "pdf" in formats:
            from drills.report.pdf import write_pdf

            written.append(write_pdf(html, out_dir / f"{REPORT_NAME}.pdf"))
    if "md" in formats:
        svg_dir = out_dir / TIMELINES
        for r in context["runs"]:
            if r["svg"]:
                svg_dir.mkdir(exist_ok=True)
                (svg_dir / f"{r['run_id']}.svg").write_text(r["svg"], encoding="utf-8")
        for rep in context["repeats"]:
            if rep["svg"]:
                svg_dir.mkdir(exist_ok=True)
                (out_dir / rep["svg_file"]).write_text(rep["svg"], encoding="utf-8")
        path = out_dir / f"{REPORT_NAME}.md"
        path.write_text(_env(markdown=True).get_template("report.md.j2").render(**context), encoding="utf-8")
        written.append(path)
    return written
