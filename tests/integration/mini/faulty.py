"""Applies faults to a mini compose project, then waits to be SIGKILLed (runner-crash stand-in)."""

import sys
import time

from drills.core import local_state
from drills.faults.base import FaultContext
from drills.faults.partition import Partition, partition
from drills.faults.process import Pause, pause
from tests.integration.mini.target import MiniTarget

project = sys.argv[1]
target = MiniTarget(project)
if "--against-stack" not in sys.argv:  # like `drill run --project`: the stack's owner is `drill stack up`
    local_state.register_owner(project, "run")
partition(Partition.model_validate({"fault": "partition", "target": "a", "from": ["b", "clients"]}),
          FaultContext(target, "p1"))
pause(Pause(fault="pause", target="b"), FaultContext(target, "p2"))
print("APPLIED", flush=True)
time.sleep(600)
