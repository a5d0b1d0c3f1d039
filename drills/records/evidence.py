"""Tamper-evident evidence: every run sealed, every seal chained to the one before.

    seal(run_dir) -> dict                  writes run_dir/manifest.json, appends reports/runs.jsonl
    verify(reports_dir) -> Verified        recomputes every run and every link; names what differs
    verify_run_dir(run_dir) -> RunVerified one run's folder against its own manifest (and its links, when
                                           its reports directory is around it)

A run's `manifest.json` lists every artifact of its directory (relative path, size, SHA-256), the
run's sequence number `seq` (1, 2, 3, ... over the whole reports directory, never reused) and
`previous`, the SHA-256 of the previous run's manifest file (None for seq 1). Changing one byte of
an artifact changes its hash; hiding that by rewriting the manifest changes the manifest's hash,
which breaks the next run's `previous`; removing a run leaves a gap in `seq`. Only the head of the
chain (the last run) can be rewritten without trace, so `drill verify` prints the head's hash:
publishing it (the nightly CI log does) anchors the whole chain up to that run. The hashes prove
order and completeness, not origin: with a signer, `seal` also signs the manifest into
`manifest.sig.json` (drills.records.signing), and `verify(..., trusted)` requires every run signed
by a trusted key, which a rewritten chain cannot be.

`reports/runs.jsonl` is the index the sequence numbers come from: one line per sealed run, appended
under an exclusive lock (`reports/.runs.lock`), so two drills sealing at once still get distinct,
consecutive numbers. The index is a convenience, not the root of trust: `verify` checks the chain
from the manifests themselves and cross-checks the index against them.

Standard library only: the runner imports this module for every drill.
"""

from __future__ import annotations

import contextlib
import fcntl
import getpass
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from drills.core.errors import HarnessError
from drills.records import signing
from drills.records.jsonfile import read_object
from drills.records.provenance import provenance
from drills.records.signing import SIGNATURE, Signer, Trusted

MANIFEST = "manifest.json"
INDEX = "runs.jsonl"
LOCK = ".runs.lock"
FORMAT = 1
CHUNK = 1 << 20
# CI variables that say what ran a drill (GitHub Actions; other CIs set CI=true at least).
CI_VARIABLES = ("CI", "GITHUB_WORKFLOW", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_ACTOR", "GITHUB_REPOSITORY",
                "GITHUB_SHA", "GITHUB_REF")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def artifacts(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Every file under `run_dir` but the manifest itself: relative POSIX path -> size and SHA-256."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(run_dir.rglob("*")):
        if path.is_file() and not path.is_symlink():
            rel = path.relative_to(run_dir).as_posix()
            # The signature signs the manifest: it cannot be one of the manifest's artifacts.
            if rel not in (MANIFEST, SIGNATURE) and not rel.endswith(".tmp"):
                out[rel] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
    return out


def read_index(reports_dir: Path) -> list[dict[str, Any]]:
    """The index lines, in file order. A damaged line is kept as {"damaged": line} for `verify`."""
    path = reports_dir / INDEX
    if not path.exists():
        return []
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict):
                raise ValueError(line)
        except ValueError:
            entry = {"damaged": line, "line": number}
        entries.append(entry)
    return entries


@contextlib.contextmanager
def _locked(reports_dir: Path) -> Iterator[None]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    with (reports_dir / LOCK).open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sealed_by() -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    ci = {k: os.environ[k] for k in CI_VARIABLES if os.environ.get(k)}
    return {"user": user, "host": socket.gethostname(), **({"ci": ci} if ci else {})}


def _inputs(journal: dict[str, Any]) -> dict[str, Any]:
    """The scenario file the journal names, hashed now (the run has just ended, so it is the one used)."""
    name = journal.get("scenario_file")
    if not name:
        return {}
    path = Path(str(name))
    entry: dict[str, Any] = {"path": str(name)}
    if path.is_file():
        entry["sha256"] = sha256_file(path)
        entry["size"] = path.stat().st_size
    return {"scenario_file": entry}


def _write_json(path: Path, data: dict[str, Any]) -> bytes:
    raw = (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return raw


def seal(run_dir: Path, signer: Signer | None = None) -> dict[str, Any]:
    """Seal a finished run: hash its artifacts, take the next sequence number, link to the previous seal;
    with a `signer`, sign the manifest's bytes into manifest.sig.json (drills.records.signing).

    Sealing again a run that has not changed does nothing; the chain's head (the last run sealed)
    may be sealed again after its artifacts changed (an aborted run rewritten); any other run is
    immutable once sealed and sealing it again is an error."""
    run_dir = run_dir.resolve()
    reports_dir = run_dir.parent
    with _locked(reports_dir):
        index = [e for e in read_index(reports_dir) if "damaged" not in e]
        found = artifacts(run_dir)
        mine = [i for i, e in enumerate(index) if e.get("run_id") == run_dir.name]
        if mine:
            position = mine[-1]
            manifest_path = run_dir / MANIFEST
            old = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {}
            if old.get("artifacts") == found:
                return dict(old)
            if position != len(index) - 1:
                raise HarnessError(f"run {run_dir.name} was sealed as #{index[position].get('seq')} and later runs "
                                   f"are chained to it; its artifacts cannot change any more",
                                   hint="`drill verify` shows what changed")
            seq, previous = int(index[position]["seq"]), index[position - 1]["manifest_sha256"] if position else None
            index = index[:position]
        else:
            seq = max((int(e.get("seq", 0)) for e in index), default=0) + 1
            previous = index[-1]["manifest_sha256"] if index else None
        journal = read_object(run_dir / "journal.json") or {}  # read once: the inputs and the provenance
        manifest = {
            "format": FORMAT, "run_id": run_dir.name, "seq": seq, "previous": previous, "algorithm": "sha256",
            "sealed_at": datetime.now(UTC).isoformat(timespec="seconds"), "sealed_by": _sealed_by(),
            "inputs": _inputs(journal), "artifacts": found,
            "provenance": provenance(journal, signer.describe() if signer else None),
        }
        raw = _write_json(run_dir / MANIFEST, manifest)
        if signer is not None:
            _write_json(run_dir / SIGNATURE, signer.sign(raw))
        else:  # a head re-sealed unsigned: a signature of its old manifest would only mislead
            (run_dir / SIGNATURE).unlink(missing_ok=True)
        entry = {"seq": seq, "run_id": run_dir.name, "manifest_sha256": hashlib.sha256(raw).hexdigest(),
                 "sealed_at": manifest["sealed_at"]}
        lines = [json.dumps(e, sort_keys=True) for e in [*index, entry]]
        index_path = reports_dir / INDEX
        if mine:  # the head re-sealed: rewrite the index without its old line
            tmp = index_path.with_name(INDEX + ".tmp")
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            tmp.replace(index_path)
        else:
            with index_path.open("a", encoding="utf-8") as fh:
                fh.write(lines[-1] + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        return manifest


# ---- verification ---------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Finding:
    """One thing that is not as sealed. `kind`: changed, added, removed, unsealed, gap, link, index, manifest,
    signature (checked only against trusted keys)."""

    seq: int  # 0 when the run has no (readable) sequence number
    run_id: str
    kind: str
    message: str

    def __str__(self) -> str:
        where = f"run #{self.seq} {self.run_id}" if self.seq else (f"run {self.run_id}" if self.run_id else "chain")
        return f"{where}: {self.message}"


@dataclass
class Verified:
    reports_dir: Path
    runs: int = 0  # sealed runs found
    head_seq: int = 0
    head_sha256: str | None = None
    signed: int = 0  # sealed runs carrying a signature file (checked or not)
    trusted: Trusted | None = None  # the keys signatures were checked against; None: origin not checked
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Nothing sealed found is not intact: there is no evidence to vouch for."""
        return self.runs > 0 and not self.findings


def verify_run(run_dir: Path, manifest: dict[str, Any], seq: int = 0) -> list[Finding]:
    """Artifacts changed, added or removed since `manifest` was written."""
    run_id = run_dir.name
    sealed = manifest.get("artifacts")
    if not isinstance(sealed, dict):
        return [Finding(seq, run_id, "manifest", "the manifest lists no artifacts (damaged or not a manifest)")]
    now = artifacts(run_dir)
    out: list[Finding] = []
    for rel in sorted(sealed.keys() | now.keys()):
        was, new = sealed.get(rel), now.get(rel)
        if was is None:
            out.append(Finding(seq, run_id, "added", f"artifact added after sealing: {rel}"))
        elif new is None:
            out.append(Finding(seq, run_id, "removed", f"artifact removed: {rel}"))
        elif was != new:
            detail = (f"size {was.get('size')} -> {new['size']}" if was.get("size") != new["size"]
                      else f"sha256 {str(was.get('sha256'))[:12]}… -> {new['sha256'][:12]}…")
            out.append(Finding(seq, run_id, "changed", f"artifact changed: {rel} ({detail})"))
    return out


def run_dirs(reports_dir: Path) -> list[Path]:
    """Directories of runs: those with a journal or a manifest."""
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.iterdir()
                  if p.is_dir() and ((p / "journal.json").exists() or (p / MANIFEST).exists()))


def _manifests(reports_dir: Path) -> tuple[dict[int, tuple[Path, dict[str, Any], str]], list[Finding]]:
    """Every run's manifest, by sequence number (seq -> dir, manifest, its sha256), and what is wrong
    with the manifests themselves (missing, unreadable, moved, a number claimed twice)."""
    findings: list[Finding] = []
    sealed: dict[int, tuple[Path, dict[str, Any], str]] = {}
    for run_dir in run_dirs(reports_dir):
        loaded = _load(run_dir)
        if isinstance(loaded, Finding):
            findings.append(loaded)
            continue
        manifest, seq, sha = loaded
        if manifest.get("run_id") != run_dir.name:
            findings.append(_moved(run_dir, manifest, seq))
        if seq in sealed:
            findings.append(Finding(seq, run_dir.name, "link",
                                    f"sequence number {seq} is also claimed by {sealed[seq][0].name}"))
            continue
        sealed[seq] = (run_dir, manifest, sha)
    return sealed, findings


def _load(run_dir: Path) -> tuple[dict[str, Any], int, str] | Finding:
    """A run's manifest, its sequence number and the manifest file's sha256; or why there is none."""
    path = run_dir / MANIFEST
    if not path.is_file():
        return Finding(0, run_dir.name, "unsealed", "not sealed: no manifest.json (the run is outside the evidence "
                       "chain)")
    raw = path.read_bytes()
    try:
        manifest = json.loads(raw)
        return manifest, int(manifest["seq"]), hashlib.sha256(raw).hexdigest()
    except (ValueError, KeyError, TypeError):
        return Finding(0, run_dir.name, "manifest", "manifest.json is damaged (not readable)")


def _moved(run_dir: Path, manifest: dict[str, Any], seq: int) -> Finding:
    return Finding(seq, run_dir.name, "manifest", f"manifest names run {manifest.get('run_id')!r}: moved or copied")


def _chain(reports_dir: Path, sealed: dict[int, tuple[Path, dict[str, Any], str]]) -> list[Finding]:
    """Gaps, broken links and index mismatches of the chain the manifests and the index form."""
    findings: list[Finding] = []
    index = read_index(reports_dir)
    by_seq = {int(e["seq"]): e for e in index if "damaged" not in e and isinstance(e.get("seq"), int)}
    for e in index:
        if "damaged" in e:
            findings.append(Finding(0, "", "index", f"{INDEX} line {e['line']} is damaged"))
    top = max([*sealed, *by_seq], default=0)
    previous_sha: str | None = None
    for seq in range(1, top + 1):
        entry = by_seq.get(seq)
        if seq not in sealed:
            name = entry.get("run_id", "?") if entry else "?"
            what = (f"run {name} is gone (listed in {INDEX})" if entry
                    else "no run carries this number: a run was removed")
            findings.append(Finding(seq, str(name) if entry else "", "gap", f"gap in the sequence: {what}"))
            previous_sha = entry.get("manifest_sha256") if entry else None
            continue
        run_dir, manifest, sha = sealed[seq]
        claimed = manifest.get("previous")
        if seq == 1 and claimed is not None:
            findings.append(Finding(seq, run_dir.name, "link", "the first run links to a previous one"))
        elif seq > 1 and previous_sha is not None and claimed != previous_sha:
            findings.append(Finding(
                seq, run_dir.name, "link",
                f"broken link: `previous` is {str(claimed)[:12]}… but run #{seq - 1}'s manifest hashes to "
                f"{previous_sha[:12]}… (run #{seq - 1}'s manifest was rewritten or replaced)"))
        if entry is None:
            findings.append(Finding(seq, run_dir.name, "index", f"missing from {INDEX}"))
        elif entry.get("manifest_sha256") != sha or entry.get("run_id") != run_dir.name:
            findings.append(Finding(seq, run_dir.name, "index",
                                    f"manifest.json differs from what {INDEX} recorded when it was sealed"))
        previous_sha = sha
    return findings


def _signature(run_dir: Path, seq: int, trusted: Trusted | None) -> list[Finding]:
    if trusted is None:
        return []
    why = signing.check(run_dir, (run_dir / MANIFEST).read_bytes(), trusted)
    return [Finding(seq, run_dir.name, "signature", why)] if why else []


def verify(reports_dir: Path, trusted: Trusted | None = None) -> Verified:
    """Recompute every sealed run and every link of the chain, and cross-check the index; with
    `trusted`, every run's manifest must be signed by one of those keys."""
    result = Verified(reports_dir, trusted=trusted)
    sealed, result.findings = _manifests(reports_dir)
    for seq, (run_dir, manifest, _) in sorted(sealed.items()):
        result.findings += verify_run(run_dir, manifest, seq)
        result.findings += _signature(run_dir, seq, trusted)
        result.signed += (run_dir / SIGNATURE).is_file()
    result.findings += _chain(reports_dir, sealed)
    result.runs = len(sealed)
    if sealed:
        result.head_seq = max(sealed)
        result.head_sha256 = sealed[result.head_seq][2]
    result.findings.sort()
    return result


@dataclass
class RunVerified:
    """One run's folder checked against its own manifest, and its links where its reports directory is there.

    `chain` says in words what of the chain was checked, or why it could not be (a folder copied
    on its own has no index next to it)."""

    run_dir: Path
    sealed: bool = False  # a readable manifest was found
    seq: int = 0
    manifest_sha256: str | None = None
    artifacts: int = 0  # artifacts the manifest lists
    signed: bool = False  # a signature file is there (checked only against `trusted`)
    trusted: Trusted | None = None
    chain: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return self.sealed and not self.findings


def is_run_dir(path: Path) -> bool:
    return (path / MANIFEST).is_file() or (path / "journal.json").is_file()


def verify_run_dir(run_dir: Path, trusted: Trusted | None = None) -> RunVerified:
    """Check one run's folder: every artifact against its manifest.json, and, when the folder sits in
    its reports directory (a `runs.jsonl` next to it), its index line and its links to the runs
    before and after it."""
    run_dir = run_dir.resolve()  # `drill verify .` inside the folder: its name is the run's id
    result = RunVerified(run_dir, trusted=trusted, signed=(run_dir / SIGNATURE).is_file())
    loaded = _load(run_dir)
    if isinstance(loaded, Finding):
        result.findings.append(loaded)
        return result
    manifest, seq, result.manifest_sha256 = loaded
    result.sealed, result.seq = True, seq
    listed = manifest.get("artifacts")
    result.artifacts = len(listed) if isinstance(listed, dict) else 0
    if manifest.get("run_id") != run_dir.name:
        result.findings.append(_moved(run_dir, manifest, seq))
    result.findings += verify_run(run_dir, manifest, seq)
    result.findings += _signature(run_dir, seq, trusted)
    result.findings += _links(run_dir, seq, result)
    result.findings.sort()
    return result


def _links(run_dir: Path, seq: int, result: RunVerified) -> list[Finding]:
    """The chain around one run, judged from its reports directory: its index line, the link to the
    run before it and the link of the run after it (which is what betrays a rewritten manifest)."""
    reports_dir = run_dir.parent
    if not (reports_dir / INDEX).is_file():
        result.chain.append(f"chain NOT CHECKED: no {INDEX} in {reports_dir} (the folder is not in its reports "
                            f"directory); compare manifest sha256 {result.manifest_sha256} with line #{seq} of "
                            f"the {INDEX} it was sealed in")
        return []
    sealed, findings = _manifests(reports_dir)
    mine = [f for f in findings + _chain(reports_dir, sealed)
            if (f.seq == seq and f.kind in ("link", "index")) or (f.seq == seq + 1 and f.kind == "link")]
    checked = [f"line #{seq} of {INDEX}"]
    if seq > 1:
        checked.append(f"link to run #{seq - 1}")
    if seq + 1 in sealed:
        checked.append(f"link from run #{seq + 1}")
    else:
        checked.append(f"no later run links to it yet (the chain's head: compare manifest sha256 "
                       f"{result.manifest_sha256} with the published head)")
    result.chain.append("chain: " + ", ".join(checked))
    return mine


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    return read_object(run_dir / MANIFEST)
