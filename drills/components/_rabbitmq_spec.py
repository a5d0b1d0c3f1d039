"""RabbitMQ: what a stack file says of it (`components.rabbitmq` with `adapter: rabbitmq`).

Private until the RabbitMQ adapter module exists (docs/plans/components-protocol.md, C-R1), which
will declare it as its spec.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from drills.components import _variables
from drills.components.base import Model, Name, Port


class RabbitmqSpec(Model):
    """A RabbitMQ cluster."""

    adapter: Literal["rabbitmq"]
    amqp_port: Port = 5672
    management_port: Port = 15672
    user: Name = Field("app", description="The user Drills connects as; its password is "
                                          f"{_variables.name_of('app_password')}.")
    queues: list[Name] = Field(
        default_factory=list, description="The queues the stack (its application) declares: readiness waits for "
                                          "them; roles such as rabbitmq.leader@QUEUE may name only these.")
    signal_queue: Name | None = Field(
        None, description="The queue `rabbitmq.publish` publishes to and consumes from. One of `queues`: declared "
                          "by the stack, only checked passively by Drills. Unset: Drills declares its own quorum "
                          "queue `drill-events`.")
    leader_queue: Name | None = Field(
        None, description="The queue whose leader `rabbitmq.leader` (without @QUEUE) means; default the first "
                          "of `queues`.")

    @model_validator(mode="after")
    def _queues_known(self) -> RabbitmqSpec:
        for name, value in (("signal_queue", self.signal_queue), ("leader_queue", self.leader_queue)):
            if value is not None and value not in self.queues:
                raise ValueError(f"{name} {value!r} is not one of the stack's queues ({', '.join(self.queues)})")
        return self
