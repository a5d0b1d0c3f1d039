"""The application tier on the real stack: a scheduled test run from the scheduler through
RabbitMQ, a worker, PostgreSQL and the mailer to the SMTP sink; sessions through the balancer."""

from __future__ import annotations

import http.cookiejar
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from drills.stack import ComposeProject
from drills.stack.removal import Removal
from drills.stack.status import collect

pytestmark = pytest.mark.docker

APP_SERVICES = ["connector", "dashboard1", "dashboard2", "mailer", "scheduler", "smtp-sink", "target", "worker1",
                "worker2"]


@pytest.fixture(scope="module")
def stack(docker_client):
    # Without MongoDB whatever images are here: the default (PostgreSQL) results store is the
    # one every machine runs.
    sp = ComposeProject.create(client=docker_client, profiles={"mongo": False})
    with sp:
        yield sp


def leftovers(client, project):
    found = []
    for label in (f"io.drills.project={project}", f"com.docker.compose.project={project}"):
        selector = {"label": label}
        found += [f"container {c.name}" for c in client.containers.list(all=True, filters=selector)]
        found += [f"network {n.name}" for n in client.networks.list(filters=selector)]
        found += [f"volume {v.name}" for v in client.volumes.list(filters=selector)]
    return found


def call(opener, url, data=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, data=body, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def sink_messages(stack):
    host, port = stack.endpoint("smtp-sink", 8025)
    status, doc = call(urllib.request.build_opener(), f"http://{host}:{port}/messages")
    assert status == 200
    return doc


def results(stack, run_ids):
    import psycopg

    [leader] = stack.services("postgres.leader")
    host, port = stack.endpoint(leader, 5432)
    with psycopg.connect(host=host, port=port, user="app", password=stack.settings.secrets.app_password,
                         dbname="app", connect_timeout=3, autocommit=True) as conn:
        rows = conn.execute("SELECT run_id, worker, ok, status FROM results WHERE run_id = ANY(%s)",
                            (list(run_ids),)).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_app_services_are_up_healthy_and_are_the_clients_group(stack):
    st = collect(stack)
    health = {s.service: (s.state, s.health) for s in st.services}
    assert {s: health.get(s) for s in APP_SERVICES} == {s: ("running", "healthy") for s in APP_SERVICES}
    # Both dashboards in the balancer's rotation (it marks one UP after two good checks, 1 s apart).
    deadline = time.monotonic() + 10
    while sorted(st.lb.up()) != ["dashboard1", "dashboard2"] and time.monotonic() < deadline:
        time.sleep(0.5)
        st = collect(stack)
    assert sorted(st.lb.up()) == ["dashboard1", "dashboard2"], st.lb
    assert sorted(stack.services("clients")) == APP_SERVICES
    assert stack.services("worker") == ["worker1", "worker2"]
    [scheduler] = stack.containers("scheduler")
    assert scheduler.labels["io.drills.tier"] == "app" and scheduler.labels["io.drills.project"] == stack.project
    assert stack.ip_of(scheduler) == f"{stack.settings.net_prefix}.61"


def test_a_scheduled_run_is_executed_stored_and_mailed(stack):
    before = sink_messages(stack)["count"]
    deadline = time.monotonic() + 40
    while True:
        doc = sink_messages(stack)
        if doc["count"] >= before + 2:
            break
        assert time.monotonic() < deadline, f"the sink got {doc['count'] - before} new messages in 40 s"
        time.sleep(0.5)
    mailed = [m["run_id"] for m in doc["messages"] if m.get("run_id")]
    assert mailed and all(m["subject"].startswith("[drills] scheduled run ") for m in doc["messages"])
    stored = results(stack, mailed)
    assert set(mailed) <= set(stored), "every mailed run has its result in PostgreSQL"
    for worker, ok, status in stored.values():
        assert worker in ("worker1", "worker2") and ok is True and status == 200


def test_login_through_the_balancer_gives_a_session_whoami_returns(stack):
    host, port = stack.endpoint("lb", 8080)
    base = f"http://{host}:{port}"
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, login = call(browser, base + "/login", {"user": "drill", "password": "drill"})
    assert status == 200 and login["user"] == "drill" and login["instance"] in ("dashboard1", "dashboard2")
    for _ in range(4):  # the balancer's cookie keeps us on the instance that holds the session
        status, me = call(browser, base + "/whoami")
        assert (status, me) == (200, login)
    assert call(urllib.request.build_opener(), base + "/whoami")[0] == 401
    assert call(urllib.request.build_opener(), base + "/login", {"user": "drill", "password": "nope"})[0] == 401

    name = f"p{time.time_ns()}"
    status, created = call(browser, base + "/projects", {"name": name})
    assert status == 201
    status, listed = call(urllib.request.build_opener(), base + "/projects")
    assert status == 200 and {"id": created["id"], "name": name} in [
        {"id": p["id"], "name": p["name"]} for p in listed["projects"]]
    status, latest = call(browser, base + "/results?limit=5")
    assert status == 200 and latest["store"] == "postgres" and latest["results"]


def test_down_leaves_no_container_network_or_volume(stack, docker_client):
    assert leftovers(docker_client, stack.project)
    assert stack.down() == Removal()  # compose removed it all, nothing by label, nothing left
    assert leftovers(docker_client, stack.project) == []
