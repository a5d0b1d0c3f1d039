"""What Swarm did by itself during a drill, from its task history, as the system's own events (pure).

Swarm restarts a task that stopped (a new task, a new container) and moves a task off a node that
is lost, as its `restart_policy` and placement allow. Drills does neither: the report must tell
them apart from what the drill's faults did. Each task Swarm keeps (`docker stack ps` lists the
history too) says its latest state and when; the tasks of one service in the order Swarm stamped
them say whether a replacement ran on the same node (`restarted`) or on another (`rescheduled`).

    events = system_events(tasks, origin=drill_start_epoch, until=drill_end_epoch)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from drills.core.events import SystemEvent
from drills.stack.swarm_tasks import Task

COMPONENT = "swarm"  # whose account it is: the orchestrator's, not the service's own log


def epoch(stamp: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 time as Swarm writes it (nanoseconds, `Z`); None when unreadable."""
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


def system_events(tasks: Iterable[Task], *, origin: float, until: float | None = None) -> list[SystemEvent]:
    """The drill's window [origin, until] (epoch seconds) of Swarm's task history: each task's state
    (`task-running`, `task-failed`, `task-shutdown`, ...) on its node, and each replacement of a
    service's task (`restarted` on the same node, `rescheduled` to another), at seconds from `origin`."""
    stamped = sorted(((at, task) for task in tasks if (at := epoch(task.since)) is not None), key=lambda p: p[0])
    found: list[SystemEvent] = []
    before: dict[str, Task] = {}
    for at, task in stamped:
        previous = before.get(task.service)
        before[task.service] = task
        if at < origin or (until is not None and at > until):
            continue
        why = f": {task.error or task.message}" if (task.error or task.message) else ""
        where = task.node or "no node"
        found.append(SystemEvent(at - origin, task.service, COMPONENT, f"task-{task.state}", where,
                                 f"task {task.task_id[:12]} of {task.service} {task.state} on {where}{why}"))
        if previous is not None and task.desired == "running":
            moved = previous.node != task.node
            found.append(SystemEvent(
                at - origin, task.service, COMPONENT, "rescheduled" if moved else "restarted", where,
                f"{task.service}: task {task.task_id[:12]} replaces {previous.task_id[:12]} "
                + (f"on {where}, moved from {previous.node or 'no node'}" if moved else f"on {where}")))
    return found
