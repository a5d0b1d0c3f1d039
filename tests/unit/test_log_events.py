"""The system's own events read from its logs: real lines of each component, the docker timestamp
on the drill's clock, and the folding of what a component repeats on every loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drills.components import nginx, repmgr
from drills.stack.log_events import GAINED, LOST, PATTERNS, Extractor, classify, split_stamp, stamp_end

# (line as the container logs it, component, kind, subject); lines copied from the reference
# stack's containers (Patroni 3.0.2, etcd 3.4, RabbitMQ 3.10.8, HAProxy) or, where a drill here has
# not produced one yet, written from the software's own format string (cited).
EVENTS = [
    ("2026-12-04 16:28:04,535 INFO: promoted self to leader by acquiring session lock", "patroni", "promoted", ""),
    ("2026-12-04 16:28:04,535 INFO: promoted self to leader because I had the session lock",
     "patroni", "promoted", ""),
    ("2026-12-04 16:28:04,535 INFO: acquired session lock as a leader", "patroni", "lock-taken", ""),
    ("2026-12-04 16:28:04,535 INFO: starting as readonly because i had the session lock",
     "patroni", "leader-restart", ""),
    ("2026-12-04 16:28:07,213 INFO: demoting self because I do not have the lock and I was a leader",
     "patroni", "demoted", ""),
    ("2026-12-04 16:28:07,213 INFO: demoting self because DCS is not accessible and I was a leader",
     "patroni", "demoted", ""),
    ("2026-12-04 16:28:07,213 INFO: demoted self because failed to update leader lock in DCS",
     "patroni", "demoted", ""),
    ("2026-12-04 16:28:04,446 INFO: Lock owner: pg1; I am pg3", "patroni", "lock-owner", "pg1"),
    ("2026-12-04 16:27:28,265 INFO: Lock owner: None; I am pg2", "patroni", "lock-owner", "None"),
    ("2026-12-04 16:28:08,825 INFO: no action. I am (pg1), the leader with the lock", "patroni", "lock-owner", "pg1"),
    ("2026-12-04 16:39:32,085 INFO: no action. I am (pg2), a secondary, and following a leader (pg3)",
     "patroni", "lock-owner", "pg3"),
    ("2026-12-04 16:28:02,360 INFO: following a different leader because i am not the healthiest node",
     "patroni", "following", ""),
    ("2026-12-04 16:28:39,951 INFO: Updating synchronous privilege temporarily from ['pg3'] to []",
     "patroni", "sync-changed", "['pg3'] to []"),
    ("2026-12-04 16:27:39,482 INFO: Assigning synchronous standby status to ['pg1']",
     "patroni", "sync-changed", "['pg1']"),
    ("2026-12-04 16:28:39,995 INFO: Synchronous replication key updated by someone else.",
     "patroni", "sync-conflict", ""),
    ("2026-12-04 16:28:08,716 INFO: running pg_rewind from pg1", "patroni", "rewind", "pg1"),
    ("2026-12-04 16:29:44,704 INFO: running pg_rewind from pg2 in progress", "patroni", "rewind", "pg2"),
    ("2026-12-04 16:29:44,704 INFO: DCS is not accessible", "patroni", "dcs-unreachable", ""),
    ("2026-12-04 16:27:41,758 INFO: Synchronous standby status assigned to ['pg1']",
     "patroni", "sync-changed", "['pg1']"),
    ("2026-12-04 16:27:41,758 INFO: Disabled synchronous replication", "patroni", "sync-changed", ""),
    ("2026-12-04 16:29:44,704 INFO: following new leader after trying and failing to obtain lock",
     "patroni", "following", ""),
    ("2026-12-04 16:29:44,704 INFO: Leader key released", "patroni", "lock-released", ""),
    ("raft2026/12/04 16:27:27 INFO: b5efdbe4234bb6e2 became leader at term 2",
     "etcd", "leader-elected", "b5efdbe4234bb6e2"),
    ('{"level":"info","ts":"2026-12-04T16:27:27.1Z","logger":"raft","msg":"8e9e05c52164694d became leader at term 5"}',
     "etcd", "leader-elected", "8e9e05c52164694d"),
    ("raft2026/12/04 16:30:01 INFO: raft.node: 76bf9ff7ad5fd4fc lost leader b5efdbe4234bb6e2 at term 3",
     "etcd", "leader-lost", "b5efdbe4234bb6e2"),
    ("raft2026/12/04 16:27:27 INFO: b5efdbe4234bb6e2 is starting a new election at term 1", "etcd", "election", ""),
    ("2026-12-04 16:27:43.451972+00:00 [info] <0.489.0> rabbit on node rabbit@rabbit3 up\x1b[0m",
     "rabbitmq", "node-up", "rabbit@rabbit3"),
    # rabbit_node_monitor.erl: "rabbit on node ~p down", "node ~p down: ~p", "node ~p up"
    ("2026-12-04 16:40:01.1+00:00 [info] <0.489.0> rabbit on node rabbit@rabbit2 down",
     "rabbitmq", "node-down", "rabbit@rabbit2"),
    ("2026-12-04 16:40:01.1+00:00 [info] <0.489.0> node rabbit@rabbit2 down: net_tick_timeout",
     "rabbitmq", "node-down", "rabbit@rabbit2"),
    ("2026-12-04 16:40:01.1+00:00 [info] <0.489.0> node rabbit@rabbit2 up", "rabbitmq", "node-up", "rabbit@rabbit2"),
    ("2026-12-04 16:40:01.1+00:00 [error] <0.489.0> Partial partition detected:", "rabbitmq", "partition", ""),
    ("2026-12-04 16:40:01.1+00:00 [error] <0.489.0> Mnesia(rabbit@rabbit1): ** ERROR ** mnesia_event got "
     "{inconsistent_database, running_partitioned_network, rabbit@rabbit2}", "rabbitmq", "partition", "rabbit@rabbit2"),
    ("2026-12-04 16:40:01.1+00:00 [warning] <0.489.0> Cluster minority/secondary status detected - awaiting recovery",
     "rabbitmq", "paused", ""),
    ("2026-12-04 16:40:01.1+00:00 [error] <0.489.0> Partial partition disconnect from rabbit@rabbit3",
     "rabbitmq", "partition", "rabbit@rabbit3"),
    # rabbit_autoheal.erl: "Autoheal: I am the winner, waiting for ~p to stop"
    ("2026-12-04 16:40:01.1+00:00 [info] <0.489.0> Autoheal: I am the winner, waiting for [rabbit@rabbit2] to stop",
     "rabbitmq", "autoheal", ""),
    ("\x1b[38;5;87m2026-12-04 16:27:44.697234+00:00 [notice] <0.989.0> queue 'scheduled-runs' in vhost '/': "
     "candidate -> leader in term: 1 machine version: 2\x1b[0m", "rabbitmq", "queue-leader", "scheduled-runs"),
    ("[WARNING]  (11) : Server dashboards/dashboard1 ('dashboard1') is UP/READY (resolves again).",
     "haproxy", "server-up", "dashboards/dashboard1"),
    ('[WARNING]  (11) : Server dashboards/dashboard2 is DOWN, reason: Layer4 connection problem, info: "Connection '
     'refused", check duration: 0ms. 1 active and 0 backup servers left.', "haproxy", "server-down",
     "dashboards/dashboard2"),
    ("Server dashboards/dashboard2 is UP, reason: Layer7 check passed, code: 200, check duration: 2ms.",
     "haproxy", "server-up", "dashboards/dashboard2"),
    ("[ALERT]    (11) : backend 'dashboards' has no server available!", "haproxy", "backend-down", "dashboards"),
    ('{"t":{"$date":"2026-12-04T16:40:01.000+00:00"},"s":"I","c":"REPL","id":21331,"ctx":"OplogApplier-0",'
     '"msg":"Transition to primary complete; database writes are now permitted","attr":{"term":3}}',
     "mongo", "promoted", ""),
    ('{"t":{"$date":"2026-12-04T16:40:01.000+00:00"},"s":"I","c":"REPL","id":21358,"ctx":"Stepdown",'
     '"msg":"Replica set state transition","attr":{"newState":"SECONDARY","oldState":"PRIMARY"}}',
     "mongo", "demoted", ""),
    ('{"t":{"$date":"2026-12-04T16:40:01.000+00:00"},"s":"I","c":"ELECTION","id":21438,"ctx":"ReplCoord-1",'
     '"msg":"Starting an election, since we\'ve seen no PRIMARY in election timeout period","attr":{}}',
     "mongo", "election", ""),
]

# The component adapters keep their recorded lines beside their patterns.
EVENTS += [(line, nginx.NAME, kind, subject) for line, kind, subject in nginx.SAMPLES]
EVENTS += [(line, repmgr.NAME, kind, subject) for line, kind, subject in repmgr.SAMPLES]

NOT_EVENTS = [
    "2026-12-04 16:28:07,140 INFO: Demoting self (immediate-nolock)",  # the detail of the demotion that follows
    "2026-12-04 16:28:08,825 INFO: running pg_rewind from dbname=postgres user=postgres host=172.30.1.23 port=5432",
    "raft2026/12/04 16:27:27 INFO: 76bf9ff7ad5fd4fc became follower at term 2",
    "2026-12-04 16:27:43.109688+00:00 [info] <0.221.0> Node 'rabbit@rabbit3' selected for auto-clustering",
    "172.30.1.1:45678 [04/Dec/2026:16:27:28.949] http dashboards/dashboard1 0/0/0/1/1 200 312 - - --NI 1/1/0/0/0 0/0",
    "2026-12-04 16:27:37.785 UTC [58] LOG:  starting PostgreSQL 15.18 (Debian 15.18-0+deb12u1)",
    # nginx's access log (stacks/examples/nginx-balancer's format): a request retried on the other server
    '172.30.0.1 "GET /health HTTP/1.1" 200 upstream=172.30.0.51:8080, 172.30.0.52:8080 upstream_status=504, 200 '
    "1.004 s",
    "2026/12/05 08:42:01 [notice] 1#1: signal process started",
    "",
]


@pytest.mark.parametrize(("line", "component", "kind", "subject"), EVENTS)
def test_each_real_line_is_its_event(line, component, kind, subject):
    found = classify(line)
    assert found is not None, line
    pattern, got = found
    assert (pattern.component, pattern.kind, got) == (component, kind, subject)


@pytest.mark.parametrize("line", NOT_EVENTS)
def test_ordinary_lines_are_no_event(line):
    assert classify(line) is None


def test_every_pattern_is_the_first_match_of_a_sample_and_no_kind_both_gains_and_loses():
    first = set()
    for line, *_ in EVENTS:
        found = classify(line)
        assert found is not None
        first.add(found[0])
    assert [p.regex.pattern for p in PATTERNS if p not in first] == []
    assert not GAINED & LOST
    assert {p.kind for p in PATTERNS} >= GAINED | LOST


def stamp(epoch: float) -> str:
    t = datetime.fromtimestamp(epoch, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}123Z "


@given(st.floats(min_value=1e9, max_value=4e9, allow_nan=False), st.text(max_size=40))
def test_the_docker_timestamp_is_read_to_the_microsecond(epoch, text):
    got, rest = split_stamp(stamp(epoch) + text)
    assert got is not None and abs(got - epoch) < 2e-6
    assert rest == text
    assert stamp_end(stamp(epoch) + text) == len(stamp(epoch))


def test_a_line_without_a_docker_timestamp_is_no_event():
    assert split_stamp("promoted self to leader by acquiring session lock") == \
        (None, "promoted self to leader by acquiring session lock")
    assert Extractor("pg1", 0.0).feed("promoted self to leader by acquiring session lock") is None


def test_an_event_is_on_the_drill_clock():
    origin = datetime(2026, 12, 4, 16, 28, 0, tzinfo=UTC).timestamp()
    ex = Extractor("pg1", origin)
    event = ex.feed("2026-12-04T16:28:04.535000000Z 2026-12-04 16:28:04,535 INFO: promoted self to leader by "
                    "acquiring session lock")
    assert event is not None
    assert event.at == pytest.approx(4.535)
    assert (event.service, event.component, event.kind) == ("pg1", "patroni", "promoted")
    assert event.line == "2026-12-04 16:28:04,535 INFO: promoted self to leader by acquiring session lock"
    assert set(event.data()) == {"service", "component", "kind", "subject", "line"}


def fed(lines: list[tuple[float, str]], origin: float = 1.8e9) -> list[tuple[float, str, str]]:
    ex = Extractor("pg1", origin)
    out = []
    for at, text in lines:
        event = ex.feed(stamp(origin + at) + text)
        if event is not None:
            out.append((round(event.at, 3), event.kind, event.subject))
    return out


def test_a_state_logged_on_every_loop_is_an_event_when_it_changes():
    loops = [(t, f"INFO: Lock owner: {'pg2' if t < 20 else 'pg3'}; I am pg1") for t in range(0, 40, 2)]
    assert fed(loops) == [(0.0, "lock-owner", "pg2"), (20.0, "lock-owner", "pg3")]


def test_the_leader_s_and_the_replica_s_loop_messages_say_who_holds_the_lock():
    lines = [(0.0, "INFO: no action. I am (pg2), a secondary, and following a leader (pg3)"),
             (2.0, "INFO: no action. I am (pg2), a secondary, and following a leader (pg3)"),
             (16.0, "INFO: Lock owner: pg1; I am pg2"),
             (18.0, "INFO: no action. I am (pg2), a secondary, and following a leader (pg1)")]
    assert fed(lines) == [(0.0, "lock-owner", "pg3"), (16.0, "lock-owner", "pg1")]


def test_a_change_and_back_is_two_events_however_quick():
    lines = [(0.0, "Lock owner: pg2; I am pg1"), (2.0, "Lock owner: pg3; I am pg1"), (4.0, "Lock owner: pg2; I am pg1")]
    assert [k for _, _, k in fed(lines)] == ["pg2", "pg3", "pg2"]


def test_a_state_that_lapsed_and_came_back_is_an_event_again():
    lines = [(0.0, "DCS is not accessible"), (2.0, "DCS is not accessible"), (100.0, "DCS is not accessible")]
    assert fed(lines) == [(0.0, "dcs-unreachable", ""), (100.0, "dcs-unreachable", "")]


def test_a_message_logged_twice_at_once_is_one_event_and_a_later_one_another():
    down = "Server dashboards/dashboard1 is DOWN, reason: Layer4 timeout"
    lines = [(10.0, "[WARNING]  (11) : " + down), (10.0005, down), (40.0, down)]
    server = "dashboards/dashboard1"
    assert fed(lines) == [(10.0, "server-down", server), (40.0, "server-down", server)]


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=600), st.sampled_from([e[0] for e in EVENTS])),
                max_size=40))
def test_folding_never_invents_an_event_and_keeps_the_first_of_each_kind(lines):
    lines = sorted(lines)
    got = fed(lines)
    assert len(got) <= len(lines)
    kinds_in = []
    for _, text in lines:
        found = classify(text)
        assert found is not None
        kinds_in.append(found[0].kind)
    assert {k for _, k, _ in got} == set(kinds_in)
    assert [t for t, _, _ in got] == sorted(t for t, _, _ in got)


def test_a_long_line_is_kept_cut_in_the_event():
    event = Extractor("pg1", 1.8e9).feed(stamp(1.8e9 + 1) + "Lock owner: pg1; I am pg2 " + "x" * 5000)
    assert event is not None and len(event.line) < 2100 and event.line.endswith("characters cut]")


def test_a_time_before_the_drill_began_is_kept_negative_rather_than_moved():
    origin = 1.8e9
    event = Extractor("pg1", origin).feed(stamp(origin - 0.5) + "Lock owner: pg1; I am pg2")
    assert event is not None and event.at == pytest.approx(-0.5)


def test_the_origin_is_a_unix_epoch():
    origin = datetime(2026, 1, 1, tzinfo=UTC)
    at = (origin + timedelta(seconds=3.25)).strftime("%Y-%m-%dT%H:%M:%S.%fZ ")
    event = Extractor("etcd1", origin.timestamp()).feed(at + "abc became leader at term 4")
    assert event is not None and event.at == pytest.approx(3.25) and event.subject == "abc"
