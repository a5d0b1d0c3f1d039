"""Signed seals: `drill verify --trust` proves who sealed each run; a rewritten chain is caught."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from drills.cli import main as cli
from drills.core.errors import HarnessError
from drills.records import provenance, signing
from drills.records.evidence import INDEX, MANIFEST, seal, verify
from drills.records.signing import SIGNATURE, load_signer, load_trusted
from drills.run.runner import not_run
from tests.report_factory import make_run, scenario

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen is not installed")


def pem_key(folder: Path, name: str) -> tuple[Path, Path]:
    """An Ed25519 key pair as PEM files: (private, public)."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = folder / f"{name}.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public = folder / f"{name}.pub.pem"
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def ssh_key(folder: Path, name: str, kind: str = "ed25519") -> tuple[Path, Path]:
    """An OpenSSH key pair made by ssh-keygen: (private, public with comment `name@drills-test`)."""
    private = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", f"{name}@drills-test", "-f", str(private)],
                   check=True, stdin=subprocess.DEVNULL)
    return private, folder / f"{name}.pub"


def fake_run(reports: Path, name: str) -> Path:
    run = reports / name
    run.mkdir(parents=True)
    (run / "journal.json").write_text(json.dumps({"status": "passed", "run_id": name}) + "\n")
    (run / "history.jsonl").write_text("{}\n")
    return run


def drill(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.cli, list(args))
    return result.exit_code, result.output


def rewrite_chain(reports: Path, signer: signing.Signer | None) -> None:
    """What someone who can write the folder can do: change an artifact, then recompute every
    manifest, every link and the index from scratch (re-signed with their own key, or unsigned)."""
    runs = sorted((p for p in reports.iterdir() if p.is_dir()), key=lambda p: json.loads(
        (p / MANIFEST).read_text())["seq"])
    (runs[0] / "history.jsonl").write_text('{"forged": true}\n')
    for run in runs:
        (run / MANIFEST).unlink()
        (run / SIGNATURE).unlink(missing_ok=True)
    (reports / INDEX).unlink()
    for run in runs:
        seal(run, signer)


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "keys"
    folder.mkdir()
    right, right_pub = pem_key(folder, "right")
    other, other_pub = pem_key(folder, "other")
    return {"right": right, "right.pub": right_pub, "other": other, "other.pub": other_pub}


def signed_reports(tmp_path: Path, key: Path, runs: int = 3) -> Path:
    reports = tmp_path / "reports"
    signer = load_signer(key, "ci@nightly")
    for i in range(runs):
        seal(fake_run(reports, f"run-{i}"), signer)
    return reports


def test_acceptance_three_signed_runs_right_key_other_key_rewritten_chain_unsigned(tmp_path, keys):
    reports = signed_reports(tmp_path, keys["right"])
    code, out = drill("verify", str(reports), "--trust", str(keys["right.pub"]))
    assert code == 0, out
    assert "intact: 3 sealed run(s)" in out and "origin verified: signed by a trusted key (trusted: SHA256:" in out
    assert "not checked" not in out

    code, out = drill("verify", str(reports), "--trust", str(keys["other.pub"]))
    assert code == 1
    for seq in (1, 2, 3):
        assert f"FAIL run #{seq} run-{seq - 1}: signed by an untrusted key" in out

    # Without --trust the chain alone is intact, and the output says plainly origin was not checked.
    code, out = drill("verify", str(reports))
    assert code == 0 and "signatures not checked" in out and "3 of 3 run(s) carry a signature" in out

    # The whole chain rewritten with recomputed hashes: intact by hashes alone, caught under --trust.
    rewrite_chain(reports, load_signer(keys["other"], "ci@nightly"))
    assert verify(reports).intact
    code, out = drill("verify", str(reports), "--trust", str(keys["right.pub"]))
    assert code == 1 and "FAIL run #1 run-0: signed by an untrusted key" in out
    rewrite_chain(reports, None)
    code, out = drill("verify", str(reports), "--trust", str(keys["right.pub"]))
    assert code == 1 and "FAIL run #2 run-1: not signed" in out
    code, out = drill("verify", str(reports))
    assert code == 0 and "signatures not checked" in out and "0 of 3 run(s)" in out


def test_an_unsigned_run_among_signed_ones_fails_under_trust_and_is_named(tmp_path, keys):
    reports = signed_reports(tmp_path, keys["right"], runs=2)
    seal(fake_run(reports, "unsigned"))
    code, out = drill("verify", str(reports), "--trust", str(keys["right.pub"]))
    assert code == 1
    assert "FAIL run #3 unsigned: not signed" in out
    assert "run #1" not in out and "run #2" not in out


def test_a_manifest_edited_and_its_index_line_fixed_is_a_bad_signature(tmp_path, keys):
    reports = signed_reports(tmp_path, keys["right"], runs=1)
    run = reports / "run-0"
    manifest = json.loads((run / MANIFEST).read_text())
    manifest["sealed_by"]["user"] = "someone-else"
    raw = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()
    (run / MANIFEST).write_bytes(raw)
    entry = json.loads((reports / INDEX).read_text())
    entry["manifest_sha256"] = hashlib.sha256(raw).hexdigest()
    (reports / INDEX).write_text(json.dumps(entry) + "\n")
    assert verify(reports).intact  # the hashes alone cannot tell
    code, out = drill("verify", str(run), "--trust", str(keys["right.pub"]))
    assert code == 1 and "FAIL run #1 run-0: bad signature" in out


def test_one_run_folder_verified_under_trust(tmp_path, keys):
    reports = signed_reports(tmp_path, keys["right"], runs=2)
    code, out = drill("verify", str(reports / "run-1"), "--trust", str(keys["right.pub"]))
    assert code == 0 and "signed by a trusted key" in out
    code, out = drill("verify", str(reports / "run-1"))
    assert code == 0 and "signatures not checked" in out


@needs_ssh_keygen
def test_ssh_keys_sign_in_git_format_checkable_by_ssh_keygen_itself(tmp_path):
    folder = tmp_path / "keys"
    folder.mkdir()
    right, right_pub = ssh_key(folder, "right")
    _, other_pub = ssh_key(folder, "other")
    reports = tmp_path / "reports"
    signer = load_signer(right)
    assert signer.algorithm == "sshsig" and signer.identity == "right@drills-test"
    for i in range(3):
        seal(fake_run(reports, f"run-{i}"), signer)
    sig = json.loads((reports / "run-1" / SIGNATURE).read_text())
    expected = subprocess.run(["ssh-keygen", "-l", "-f", str(right_pub)], capture_output=True, text=True,
                              check=True).stdout.split()[1]
    assert sig["fingerprint"] == expected and sig["namespace"] == "drills-manifest"
    # An auditor without Drills: git's allowed_signers format and ssh-keygen -Y verify.
    allowed = tmp_path / "allowed_signers"
    allowed.write_text("right@drills-test " + right_pub.read_text())
    (tmp_path / "m.sig").write_text(sig["signature"])
    checked = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "right@drills-test",
                              "-n", "drills-manifest", "-s", str(tmp_path / "m.sig")],
                             input=(reports / "run-1" / MANIFEST).read_bytes(), capture_output=True)
    assert checked.returncode == 0, checked.stderr
    assert drill("verify", str(reports), "--trust", str(allowed))[0] == 0
    assert drill("verify", str(reports), "--trust", str(right_pub))[0] == 0
    code, out = drill("verify", str(reports), "--trust", str(other_pub))
    assert code == 1 and "FAIL run #3 run-2: signed by an untrusted key" in out
    # The manifest changed under a genuine SSH signature: ssh-keygen's check fails.
    manifest = reports / "run-2" / MANIFEST
    manifest.write_bytes(manifest.read_bytes().replace(b'"seq": 3', b'"seq": 3 '))
    code, out = drill("verify", str(reports), "--trust", str(right_pub))
    assert code == 1 and "FAIL run #3 run-2: bad signature" in out


@needs_ssh_keygen
def test_an_openssh_ed25519_key_and_a_pem_key_can_be_trusted_together(tmp_path, keys):
    folder = tmp_path / "keys"
    ssh_private, ssh_public = ssh_key(folder, "laptop")
    reports = tmp_path / "reports"
    seal(fake_run(reports, "a"), load_signer(keys["right"]))
    seal(fake_run(reports, "b"), load_signer(ssh_private))
    code, out = drill("verify", str(reports), "--trust", str(keys["right.pub"]), "--trust", str(ssh_public))
    assert code == 0, out
    assert drill("verify", str(reports), "--trust", str(ssh_public))[0] == 1


def test_keys_never_reach_the_run_folders_the_report_or_the_output(tmp_path, keys, monkeypatch):
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/drills")
    reports = tmp_path / "reports"
    signer = load_signer(keys["right"], "ci@nightly")
    seal(make_run(reports, do_seal=False), signer)
    path, sc = scenario("rabbitmq-node-partition")
    not_run(sc, path, reports, "image absent", signer=signer)
    outputs = [drill("verify", str(reports), "--trust", str(keys["right.pub"]))[1], drill("report", str(reports))[1]]
    private = ed25519.Ed25519PrivateKey.from_private_bytes(
        serialization.load_pem_private_key(keys["right"].read_bytes(), None).private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()))
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    pem_body = "".join(keys["right"].read_text().splitlines()[1:-1])
    secrets = [pem_body, raw.hex(), base64.b64encode(raw).decode(), "PRIVATE KEY"]
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert any(p.name == SIGNATURE for p in files) and any(p.suffix == ".html" for p in files)
    for text in [*(p.read_bytes().decode(errors="replace") for p in files), *outputs, repr(signer)]:
        for secret in secrets:
            assert secret not in text
    assert raw not in b"".join(p.read_bytes() for p in files)
    assert str(keys["right"]) not in "".join(outputs)  # not even where the key lives


def test_provenance_is_sealed_in_the_manifest_and_names_the_signer(tmp_path, keys, monkeypatch):
    for var in ("GITHUB_RUN_ID", "CI"):
        monkeypatch.delenv(var, raising=False)
    reports = tmp_path / "reports"
    signer = load_signer(keys["right"], "ci@nightly")
    manifest = seal(make_run(reports, do_seal=False), signer)
    prov = manifest["provenance"]
    assert prov["drills"]["version"] and prov["drills"]["commit"]
    assert prov["host"] and prov["ci"] is None
    assert prov["signed_by"] == {"identity": "ci@nightly", "algorithm": "ed25519",
                                 "fingerprint": signer.fingerprint, "public_key": signer.public_key}
    assert prov["images"]  # the images the journal recorded
    assert seal(fake_run(reports, "plain"))["provenance"]["signed_by"] is None


def test_ci_run_of_github_actions_links_to_the_run():
    ci = provenance.ci_run({"GITHUB_RUN_ID": "7", "GITHUB_SERVER_URL": "https://github.com",
                            "GITHUB_REPOSITORY": "acme/drills", "CI": "true"})
    assert ci is not None and ci["url"] == "https://github.com/acme/drills/actions/runs/7"
    assert provenance.ci_run({"CI": "true"}) == {"provider": "unknown"}
    assert provenance.ci_run({}) is None


def test_fingerprint_is_the_one_ssh_keygen_prints(tmp_path, keys):
    signer = load_signer(keys["right"])
    if shutil.which("ssh-keygen"):
        pub = tmp_path / "k.pub"
        pub.write_text(signer.public_key + "\n")
        shown = subprocess.run(["ssh-keygen", "-l", "-f", str(pub)], capture_output=True, text=True, check=True)
        assert shown.stdout.split()[1] == signer.fingerprint
    assert load_trusted([keys["right.pub"]]).fingerprints() == [signer.fingerprint]


def test_unusable_keys_are_refused_before_anything_runs_with_what_to_do(tmp_path, keys):
    encrypted = tmp_path / "encrypted.pem"
    key = ed25519.Ed25519PrivateKey.generate()
    encrypted.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.BestAvailableEncryption(b"secret")))
    with pytest.raises(HarnessError, match="passphrase"):
        load_signer(encrypted)
    with pytest.raises(HarnessError, match="not a private key"):
        load_signer(keys["right.pub"])
    with pytest.raises(HarnessError, match="no public key"):
        load_trusted([keys["right"]])  # a private key passed as trusted is refused, not read


def test_drill_run_and_explore_take_the_key_from_the_option_or_the_environment(tmp_path):
    for command in ("run", "explore"):
        code, out = drill(command, "--help")
        assert code == 0 and "--sign-key" in out and "DRILLS_SIGN_KEY" in out and "--signer" in out
    # A key that cannot be read stops `drill run` before any stack is touched, saying what to pass.
    env = {**os.environ, "DRILLS_SIGN_KEY": str(tmp_path / "missing.pem")}
    done = subprocess.run([sys.executable, "-m", "drills", "run", "scenarios/postgres-leader-kill.yaml", "--reports",
                           str(tmp_path / "r")], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "cannot read the signing key" in done.stderr and "ssh-keygen -t ed25519" in done.stderr
    assert not (tmp_path / "r").exists()
    exploration = sorted(Path("explorations").glob("*.yaml"))[0]
    done = subprocess.run([sys.executable, "-m", "drills", "explore", str(exploration), "--reports",
                           str(tmp_path / "e"), "--sign-key", str(tmp_path / "missing.pem")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3 and "cannot read the signing key" in done.stderr, done.stderr
    assert not (tmp_path / "e").exists()


def test_the_report_reads_each_runs_provenance_and_its_signer(tmp_path, keys):
    from drills.report.runs import load_runs

    reports = tmp_path / "reports"
    seal(make_run(reports, do_seal=False), load_signer(keys["right"], "ci@nightly"))
    unsealed = make_run(reports, name="postgres-leader-kill", do_seal=False)
    runs = {r.dir: r for r in load_runs([reports])}
    signed = next(r for d, r in runs.items() if d != unsealed)
    assert signed.provenance["signed_by"]["identity"] == "ci@nightly"
    assert signed.provenance["signed_by"]["fingerprint"].startswith("SHA256:")
    older = runs[unsealed].provenance  # no manifest: the journal's harness version, the rest unknown
    assert older["signed_by"] is None and older["host"] == "unknown" and older["drills"]["version"]


def _workflow_step(step_id: str) -> dict:
    from ruamel.yaml import YAML

    workflow = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "nightly-drills.yml"
    steps = YAML(typ="safe").load(workflow.read_text())["jobs"]["drills"]["steps"]
    return next(s for s in steps if s.get("id") == step_id)


def _run_step(step: dict, cwd: Path, env: dict[str, str], expressions: dict[str, str]) -> subprocess.CompletedProcess:
    script = step["run"]
    for expression, value in expressions.items():
        script = script.replace("${{ " + expression + " }}", value)
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_nightly_workflow_signs_with_the_secret_and_publishes_fingerprint_and_head(tmp_path):
    """The workflow's own steps, run in bash: the secret becomes a key file DRILLS_SIGN_KEY names,
    runs sealed with it verify under --trust, and the summary shows the fingerprint and the head."""
    root = Path(__file__).resolve().parents[2]
    job = tmp_path / "job"
    (job / ".venv" / "bin").mkdir(parents=True)
    (job / ".venv" / "bin" / "python").symlink_to(sys.executable)
    drill_bin = job / ".venv" / "bin" / "drill"
    drill_bin.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m drills "$@"\n')
    drill_bin.chmod(0o755)
    runner_temp, summary = tmp_path / "rt", tmp_path / "summary.md"
    github_env, output = tmp_path / "env", tmp_path / "o"
    runner_temp.mkdir()
    secret = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(root), "RUNNER_TEMP": str(runner_temp),
           "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ENV": str(github_env), "GITHUB_OUTPUT": str(output),
           "GITHUB_REPOSITORY": "acme/drills", "GITHUB_RUN_ID": "42", "SIGN_KEY": secret}
    done = _run_step(_workflow_step("signkey"), job, env, {})
    assert done.returncode == 0, done.stderr
    assert "signed=true" in output.read_text() and secret not in done.stdout + done.stderr
    exported = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
    key_file = Path(exported["DRILLS_SIGN_KEY"])
    assert key_file.read_text().strip() == secret.strip() and oct(key_file.stat().st_mode)[-3:] == "600"
    signer = load_signer(key_file, exported["DRILLS_SIGNER"])
    for i in range(2):  # what `drill run` does with DRILLS_SIGN_KEY set
        seal(fake_run(job / "reports", f"run-{i}"), signer)
    verify_env = {**env, **exported, "SIGN_PUBLIC_KEY": ""}
    del verify_env["SIGN_KEY"]
    done = _run_step(_workflow_step("verify"), job, verify_env, {"steps.signkey.outputs.signed": "true"})
    assert done.returncode == 0, done.stdout + done.stderr
    head = json.loads((job / "reports" / INDEX).read_text().splitlines()[-1])["manifest_sha256"]
    shown = summary.read_text()
    assert f"chain head: `{head}`" in shown and f"`{signer.fingerprint}`" in shown
    assert "github-actions:acme/drills/actions/runs/42" in shown and secret not in shown
    # Without the secret: unsigned, said so, and verify still checks the chain.
    summary.unlink()
    done = _run_step(_workflow_step("verify"), job, {**env, "SIGN_PUBLIC_KEY": ""},
                     {"steps.signkey.outputs.signed": "false"})
    assert done.returncode == 0 and "signatures not checked" in done.stdout
    assert "origin not checked" in summary.read_text()
