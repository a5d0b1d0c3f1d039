"""Swarm's restarts and reschedules, read from its task history, as the system's own events."""

from __future__ import annotations

from drills.stack.swarm_events import epoch, system_events
from drills.stack.swarm_tasks import Task

ORIGIN = epoch("2026-12-06T03:00:00Z")
assert ORIGIN is not None


def task(task_id: str, service: str, node: str, desired: str, state: str, at: str, error: str = "") -> Task:
    return Task(task_id=task_id, service=service, slot=1, node=node, desired=desired, state=state,
                since=f"2026-12-06T03:00:{at}Z", container_id="c" if state == "running" else "", error=error)


def test_a_killed_task_replaced_on_another_node_is_a_reschedule_at_the_drills_seconds() -> None:
    tasks = [task("t2" * 7, "pg1", "node-2", "running", "running", "09.500000001"),
             task("t1" * 7, "pg1", "node-1", "shutdown", "failed", "03.25", error="task: non-zero exit (137)"),
             task("t3" * 7, "pg2", "node-3", "running", "running", "01")]
    found = [(e.at, e.service, e.component, e.kind, e.subject) for e in system_events(tasks, origin=ORIGIN)]
    assert found == [(1.0, "pg2", "swarm", "task-running", "node-3"),
                     (3.25, "pg1", "swarm", "task-failed", "node-1"),
                     (9.5, "pg1", "swarm", "task-running", "node-2"),
                     (9.5, "pg1", "swarm", "rescheduled", "node-2")]
    events = system_events(tasks, origin=ORIGIN)
    assert events[1].line == "task t1t1t1t1t1t1 of pg1 failed on node-1: task: non-zero exit (137)"
    assert events[3].line == "pg1: task t2t2t2t2t2t2 replaces t1t1t1t1t1t1 on node-2, moved from node-1"


def test_a_replacement_on_the_same_node_is_a_restart_and_the_window_bounds_what_is_told() -> None:
    tasks = [task("a", "mq1", "node-1", "shutdown", "failed", "02"), task("b", "mq1", "node-1", "running", "running",
                                                                            "05")]
    assert [e.kind for e in system_events(tasks, origin=ORIGIN)] == ["task-failed", "task-running", "restarted"]
    # Before the drill (the stack's boot) and after it: not the drill's.
    assert [e.kind for e in system_events(tasks, origin=ORIGIN + 3, until=ORIGIN + 4)] == []
    assert [e.kind for e in system_events(tasks, origin=ORIGIN + 3)] == ["task-running", "restarted"]


def test_a_time_swarm_wrote_that_cannot_be_read_is_left_out() -> None:
    assert epoch("soon") is None
    assert system_events([task("a", "x", "", "running", "pending", "xx")], origin=ORIGIN) == []
