"""Drilling a stack nobody wrote for Drills, through the `drill` command as a user would:
stacks/examples/debian-patroni (Debian's Patroni 3.0.2, etcd 3.4, HAProxy 2.6 and PostgreSQL 15,
built by Compose from its own Dockerfiles). Its Compose file publishes no port and reads no `DRILLS_`
variable; its Patroni members (pgnode-a..c) are not named after its services (db-1..3); its users
are dba / repl / orders_app with passwords from Compose secrets; its data directory is Debian's.

Both restore drills must run to a verified restore: they use everything Drills must find out about
such a stack (the ports it publishes itself, the members placed on services, the logins, the data
directory and its volume, Patroni's namespace and scope read live, etcd's keys deleted over its v3
gateway), and the signal goes through the stack's own proxy.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.test_own_stack import ROOT, drill

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(1200)]
EXAMPLE = ROOT / "stacks" / "examples" / "debian-patroni"


def test_both_restores_of_a_foreign_stack_are_verified_through_its_own_proxy(tmp_path):
    reports = tmp_path / "reports"
    summary = tmp_path / "summary.json"
    done = drill("run", "scenarios/postgres-global-failure-restore-dump.yaml",
                 "scenarios/postgres-global-failure-restore-snapshot.yaml",
                 "--stack", str(EXAMPLE), "--reports", str(reports), "--summary", str(summary))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = {r["scenario"]: r for r in json.loads(summary.read_text())["runs"]}
    assert {runs[s]["status"] for s in runs} == {"passed"}, runs
    for journal_path in reports.glob("*/journal.json"):
        journal = json.loads(journal_path.read_text())
        stack = journal["environment"]["stack"]
        assert stack["name"] == "orders-db"
        assert stack["access"]["postgres"] == {"through": "db-proxy", "services": ["pgproxy"], "port": 5000}
        [integrity] = [v for v in journal["verdicts"] if v["checker"] == "backup-integrity"]
        assert integrity["status"] == "pass", integrity
        # Patroni's own names, placed on the stack's services by address.
        text = json.dumps(journal["environment"]["effective"])
        assert '"name": "pgnode-' in text and '"service": "db-' in text
