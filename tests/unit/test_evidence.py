"""Evidence integrity: seal every run, chain the seals, and find every alteration."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drills.cli import main as cli
from drills.core.errors import HarnessError
from drills.records import evidence
from drills.records.evidence import INDEX, MANIFEST, seal, verify, verify_run_dir
from tests.report_factory import make_not_run, make_run


def fake_run(reports: Path, name: str, files: dict[str, bytes] | None = None) -> Path:
    run = reports / name
    run.mkdir(parents=True)
    for rel, data in (files or {"journal.json": b'{"status": "passed"}\n', "history.jsonl": b"{}\n"}).items():
        (run / rel).parent.mkdir(parents=True, exist_ok=True)
        (run / rel).write_bytes(data)
    return run


def kinds(reports: Path) -> set[tuple[int, str]]:
    return {(f.seq, f.kind) for f in verify(reports).findings}


def test_seal_numbers_runs_and_links_each_to_the_previous_manifest(tmp_path):
    runs = [fake_run(tmp_path, f"run-{i}") for i in range(3)]
    manifests = [seal(r) for r in runs]
    assert [m["seq"] for m in manifests] == [1, 2, 3]
    assert manifests[0]["previous"] is None
    for before, after in zip(runs, manifests[1:], strict=False):
        assert after["previous"] == hashlib.sha256((before / MANIFEST).read_bytes()).hexdigest()
    assert manifests[0]["artifacts"]["history.jsonl"] == {"size": 3, "sha256": hashlib.sha256(b"{}\n").hexdigest()}
    assert MANIFEST not in manifests[0]["artifacts"]
    index = [json.loads(line) for line in (tmp_path / INDEX).read_text().splitlines()]
    assert [(e["seq"], e["run_id"]) for e in index] == [(1, "run-0"), (2, "run-1"), (3, "run-2")]
    result = verify(tmp_path)
    assert result.intact and result.runs == 3 and result.head_seq == 3
    assert result.head_sha256 == index[-1]["manifest_sha256"]


def test_real_runs_are_sealed_by_the_runner_writers_including_not_run(tmp_path):
    done = make_run(tmp_path, do_seal=False)
    seal(done)
    skipped = make_not_run(tmp_path)  # drills.run.runner.not_run seals itself
    m = evidence.read_manifest(skipped)
    assert m is not None and m["seq"] == 2
    assert set(m["artifacts"]) == {"journal.json", "junit.xml"}
    assert m["inputs"]["scenario_file"]["sha256"] == evidence.sha256_file(Path(m["inputs"]["scenario_file"]["path"]))
    assert m["sealed_by"]["user"]
    assert verify(tmp_path).intact


def test_sealing_an_unchanged_run_again_changes_nothing(tmp_path):
    run = fake_run(tmp_path, "a")
    first = seal(run)
    raw = (run / MANIFEST).read_bytes()
    assert seal(run) == first
    assert (run / MANIFEST).read_bytes() == raw
    assert len((tmp_path / INDEX).read_text().splitlines()) == 1


def test_the_head_may_be_resealed_but_an_earlier_run_is_immutable(tmp_path):
    a, b = fake_run(tmp_path, "a"), fake_run(tmp_path, "b")
    seal(a)
    seal(b)
    (b / "journal.json").write_text('{"status": "aborted"}\n')
    assert seal(b)["seq"] == 2  # the head, rewritten: same number, same link
    assert verify(tmp_path).intact
    (a / "journal.json").write_text('{"status": "failed"}\n')
    with pytest.raises(HarnessError, match="cannot change"):
        seal(a)


def test_concurrent_seals_get_distinct_consecutive_numbers(tmp_path):
    runs = [fake_run(tmp_path, f"r{i:02}") for i in range(12)]
    threads = [threading.Thread(target=seal, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seqs = sorted(evidence.read_manifest(r)["seq"] for r in runs)  # type: ignore[index]
    assert seqs == list(range(1, 13))
    assert verify(tmp_path).intact


def test_changed_added_and_removed_artifacts_are_named(tmp_path):
    run = fake_run(tmp_path, "a", {"journal.json": b"{}", "history.jsonl": b"1\n", "sub/x.log": b"x"})
    seal(run)
    (run / "history.jsonl").write_bytes(b"2\n")
    (run / "sub" / "x.log").unlink()
    (run / "extra.txt").write_text("planted")
    messages = [str(f) for f in verify(tmp_path).findings]
    old, new = (hashlib.sha256(b).hexdigest()[:12] for b in (b"1\n", b"2\n"))
    assert messages == [
        "run #1 a: artifact added after sealing: extra.txt",
        f"run #1 a: artifact changed: history.jsonl (sha256 {old}\u2026 -> {new}\u2026)",
        "run #1 a: artifact removed: sub/x.log",
    ]


def test_a_rewritten_manifest_breaks_the_next_link(tmp_path):
    a, _ = fake_run(tmp_path, "a"), fake_run(tmp_path, "b")
    seal(a)
    seal(tmp_path / "b")
    # Hide a change by recomputing a's manifest: the chain gives it away.
    (a / "history.jsonl").write_bytes(b"forged\n")
    manifest = json.loads((a / MANIFEST).read_text())
    manifest["artifacts"] = evidence.artifacts(a)
    (a / MANIFEST).write_text(json.dumps(manifest))
    found = kinds(tmp_path)
    assert (2, "link") in found
    assert (1, "index") in found
    assert not any(k == "changed" for _, k in found)


def test_a_removed_run_is_a_gap(tmp_path):
    runs = [fake_run(tmp_path, n) for n in "abc"]
    for r in runs:
        seal(r)
    shutil.rmtree(runs[1])
    result = verify(tmp_path)
    assert not result.intact
    assert [str(f) for f in result.findings] == ["run #2 b: gap in the sequence: run b is gone (listed in runs.jsonl)"]


def test_a_removed_run_and_index_line_is_still_a_gap(tmp_path):
    runs = [fake_run(tmp_path, n) for n in "abc"]
    for r in runs:
        seal(r)
    shutil.rmtree(runs[1])
    lines = (tmp_path / INDEX).read_text().splitlines()
    (tmp_path / INDEX).write_text(lines[0] + "\n" + lines[2] + "\n")
    assert (2, "gap") in kinds(tmp_path)


def test_unsealed_runs_and_damaged_manifests_are_reported(tmp_path):
    seal(fake_run(tmp_path, "a"))
    fake_run(tmp_path, "b")  # never sealed
    c = fake_run(tmp_path, "c")
    seal(c)
    (c / MANIFEST).write_text("{not json")
    messages = [str(f) for f in verify(tmp_path).findings]
    assert "run b: not sealed: no manifest.json (the run is outside the evidence chain)" in messages
    assert "run c: manifest.json is damaged (not readable)" in messages


def test_an_empty_reports_dir_is_not_intact(tmp_path):
    # Nothing sealed vouches for nothing: fail closed (it used to say "intact").
    result = verify(tmp_path)
    assert not result.intact and result.runs == 0 and not result.findings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.sampled_from(["journal.json", "history.jsonl", "junit.xml", "logs/pg1.log"]),
                             st.binary(min_size=1, max_size=64), min_size=1),
       data=st.data())
def test_any_single_byte_change_in_any_artifact_is_detected(tmp_path_factory, files, data):
    reports = tmp_path_factory.mktemp("reports")
    run = fake_run(reports, "run", files)
    seal(run)
    assert verify(reports).intact
    assert verify_run_dir(run).intact and verify_run_dir(run).artifacts == len(files)
    rel = data.draw(st.sampled_from(sorted(files)))
    offset = data.draw(st.integers(0, len(files[rel]) - 1))
    old = files[rel][offset]
    new = data.draw(st.integers(0, 255).filter(lambda b: b != old))
    changed = bytearray(files[rel])
    changed[offset] = new
    (run / rel).write_bytes(bytes(changed))
    findings = verify(reports).findings
    assert [(f.kind, f.message.split(": ")[1].split(" ")[0]) for f in findings] == [("changed", rel)]
    # The same run judged from its own folder, as `drill verify reports/<run-id>` does.
    alone = verify_run_dir(run)
    assert [(f.kind, f.message.split(": ")[1].split(" ")[0]) for f in alone.findings] == [("changed", rel)]
    assert not alone.intact


def test_drill_verify_exit_codes_and_messages(tmp_path):
    run = fake_run(tmp_path, "a")
    seal(run)
    ok = CliRunner().invoke(cli.cli, ["verify", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "intact: 1 sealed run(s), #1..#1; chain head sha256 " in ok.output
    (run / "journal.json").write_text("{}")
    bad = CliRunner().invoke(cli.cli, ["verify", str(tmp_path)])
    assert bad.exit_code == 1
    assert "FAIL run #1 a: artifact changed: journal.json (size 21 -> 2)" in bad.output
    assert "NOT INTACT: 1 finding(s)" in bad.output


# ---- one run's folder (what gets attached to an audit ticket) -------------------------------------


def drill(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`drill ...` as a user runs it: a process of its own, through the real entry point."""
    return subprocess.run([sys.executable, "-c", "from drills.cli.main import main; main()", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd)


@pytest.fixture(scope="module")
def sealed_reports(tmp_path_factory) -> Path:
    """Three real runs (real writers, real checkers) sealed by the runner's own `seal`."""
    reports = tmp_path_factory.mktemp("sealed") / "reports"
    for _ in range(3):
        make_run(reports)
    return reports


def copy_reports(sealed_reports: Path, tmp_path: Path) -> list[Path]:
    """A copy of the sealed reports directory; its run folders in sequence order."""
    reports = tmp_path / "reports"
    shutil.copytree(sealed_reports, reports)
    return sorted(evidence.run_dirs(reports), key=lambda r: evidence.read_manifest(r)["seq"])  # type: ignore[index]


def test_drill_verify_on_an_untouched_run_folder_says_what_it_checked(sealed_reports, tmp_path):
    runs = copy_reports(sealed_reports, tmp_path)
    manifest = evidence.read_manifest(runs[1])
    assert manifest is not None and len(manifest["artifacts"]) == 3  # history.jsonl, journal.json, junit.xml
    ok = drill("verify", runs[1])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    sha = hashlib.sha256((runs[1] / MANIFEST).read_bytes()).hexdigest()
    assert f"intact: run #2 {runs[1].name}: 3 artifact(s) as sealed in its manifest.json (sha256 {sha})" in ok.stdout
    assert "chain: line #2 of runs.jsonl, link to run #1, link from run #3" in ok.stdout
    head = drill("verify", runs[2])
    assert head.returncode == 0 and "no later run links to it yet (the chain's head" in head.stdout


def test_drill_verify_names_the_byte_changed_in_a_run_folder(sealed_reports, tmp_path):
    # A run folder checked on its own must be checked against its manifest, never pass as
    # "intact: no sealed runs in ..." with exit 0.
    runs = copy_reports(sealed_reports, tmp_path)
    history = runs[0] / "history.jsonl"
    raw = bytearray(history.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    history.write_bytes(bytes(raw))
    bad = drill("verify", runs[0])
    assert bad.returncode == 1
    assert f"FAIL run #1 {runs[0].name}: artifact changed: history.jsonl (sha256 " in bad.stdout
    assert "intact" not in bad.stdout
    assert f"NOT INTACT: 1 finding(s) in run folder {runs[0]}" in bad.stderr


def test_drill_verify_on_nothing_sealed_fails_and_says_what_to_pass(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    unrelated = tmp_path / "unrelated"
    unrelated.mkdir()
    (unrelated / "notes.txt").write_text("not a run")
    for where in (empty, unrelated):
        result = drill("verify", where)
        assert result.returncode == 1, result.stdout
        assert "intact" not in result.stdout
        assert f"NOT VERIFIED: nothing sealed in {where}" in result.stderr
        assert "`drill verify reports/<run-id>`" in result.stderr
    missing = drill("verify", tmp_path / "nope")
    assert missing.returncode == 2 and "or one run's folder" in missing.stderr


def test_a_run_folder_without_its_manifest_is_not_intact(sealed_reports, tmp_path):
    runs = copy_reports(sealed_reports, tmp_path)
    (runs[2] / MANIFEST).unlink()
    result = drill("verify", runs[2])
    assert result.returncode == 1
    assert f"FAIL run {runs[2].name}: not sealed: no manifest.json" in result.stdout
    unsealed = make_run(tmp_path / "other", do_seal=False)
    assert drill("verify", unsealed).returncode == 1


def test_a_rewritten_manifest_in_a_run_folder_is_caught_by_its_chain(sealed_reports, tmp_path):
    runs = copy_reports(sealed_reports, tmp_path)
    # Change an artifact and hide it by resealing the manifest by hand: the folder alone agrees with
    # itself; its index line and the next run's link do not.
    (runs[1] / "junit.xml").write_text("<testsuite/>")
    manifest = json.loads((runs[1] / MANIFEST).read_text())
    manifest["artifacts"] = evidence.artifacts(runs[1])
    (runs[1] / MANIFEST).write_text(json.dumps(manifest))
    assert {(f.seq, f.kind) for f in verify_run_dir(runs[1]).findings} == {(2, "index"), (3, "link")}
    result = drill("verify", runs[1])
    assert result.returncode == 1
    assert f"FAIL run #3 {runs[2].name}: broken link" in result.stdout
    # A folder copied out on its own cannot show that: it says so instead of vouching for the chain.
    alone = tmp_path / "ticket" / runs[2].name
    shutil.copytree(runs[2], alone)
    lone = drill("verify", alone)
    assert lone.returncode == 0
    assert "chain NOT CHECKED: no runs.jsonl in" in lone.stdout


def test_drill_verify_dot_inside_a_run_folder(sealed_reports, tmp_path):
    runs = copy_reports(sealed_reports, tmp_path)
    result = drill("verify", ".", cwd=runs[2])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"intact: run #3 {runs[2].name}: 3 artifact(s)" in result.stdout


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_byte_change_in_a_real_run_folder_fails_drill_verify(sealed_reports, tmp_path_factory, data):
    runs = copy_reports(sealed_reports, tmp_path_factory.mktemp("copy"))
    run = data.draw(st.sampled_from(runs))
    rel = data.draw(st.sampled_from(sorted(evidence.artifacts(run))))
    raw = bytearray((run / rel).read_bytes())
    offset = data.draw(st.integers(0, len(raw) - 1))
    raw[offset] = data.draw(st.integers(0, 255).filter(lambda b: b != raw[offset]))
    (run / rel).write_bytes(bytes(raw))
    seq = evidence.read_manifest(run)["seq"]  # type: ignore[index]
    result = CliRunner().invoke(cli.cli, ["verify", str(run)])
    assert result.exit_code == 1
    fails = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1, result.output
    assert fails[0].startswith(f"FAIL run #{seq} {run.name}: artifact changed: {rel} (sha256 ")
