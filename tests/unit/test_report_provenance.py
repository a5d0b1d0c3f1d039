"""Each run's provenance in the DR report: Drills' version and commit, host, CI run, the images
drilled by content, and who signed (UNSIGNED said so); and the images' content read from the
containers' inspect data (one entry per service, never a guess)."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from drills.cli import main as cli
from drills.records.evidence import seal
from drills.records.signing import load_signer
from drills.stack.image_digests import digests_of
from tests.report_factory import make_run

PATRONI_ID = "sha256:" + "a1" * 32


def inspect(service: str, image: str, image_id: str, name: str) -> dict:
    return {"Name": f"/{name}", "Image": image_id,
            "Config": {"Image": image, "Labels": {"com.docker.compose.service": service}}}


def test_each_service_is_one_image_by_content_with_its_registry_digests():
    containers = [inspect("pg1", "drills/patroni:2f24", PATRONI_ID, "p-pg1-1"),
                  inspect("pg1", "drills/patroni:2f24", PATRONI_ID, "p-pg1-2"),  # a replica: same image
                  inspect("mongo1", "mongo:7", "sha256:" + "b2" * 32, "p-mongo1-1"),
                  {"Name": "/no-image", "Config": {}}]  # nothing known: left out, not guessed
    digests = digests_of(containers, lambda image_id: ["mongo@sha256:" + "c3" * 32] if "b2" in image_id else [])
    assert digests == {
        "mongo1": {"image": "mongo:7", "id": "sha256:" + "b2" * 32, "repo_digests": ["mongo@sha256:" + "c3" * 32]},
        "pg1": {"image": "drills/patroni:2f24", "id": PATRONI_ID, "repo_digests": []}}


def test_the_report_shows_who_signed_each_run_and_the_images_by_content(tmp_path, monkeypatch):
    for name in ("CI", "GITHUB_RUN_ID"):  # sealed outside CI, whatever runs this test
        monkeypatch.delenv(name, raising=False)
    reports = tmp_path / "reports"
    make_run(reports)  # sealed, unsigned, before image digests were recorded
    signed = make_run(reports, do_seal=False)
    journal = json.loads((signed / "journal.json").read_text())
    journal["environment"]["image_digests"] = {"pg1": {"image": "drills/patroni:2f24", "id": PATRONI_ID,
                                                       "repo_digests": []}}
    (signed / "journal.json").write_text(json.dumps(journal))
    key = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "sign.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    seal(signed, load_signer(pem, "ci@nightly"))

    result = CliRunner().invoke(cli.cli, ["report", str(reports), "--out", str(tmp_path / "out"), "--format", "md"])
    assert result.exit_code == 0, result.output
    lines = re.findall(r"^Provenance: .*$", (tmp_path / "out" / "drill-report.md").read_text(), re.MULTILINE)
    assert len(lines) == 2
    unsigned, signed_line = lines
    assert "signed by UNSIGNED" in unsigned and "tags only: digests not recorded" in unsigned
    assert re.search(r"signed by ci@nightly \(ed25519, SHA256:[A-Za-z0-9+/]+\)", signed_line)
    assert f"pg1: drills/patroni:2f24 {PATRONI_ID}" in signed_line
    assert "CI not a CI run" in signed_line
