"""Every checker, found once: each module of this package that defines `CHECKER` (a
`drills.checkers.protocol.Checker`) is one, under the name its expectation model's `checker:` tag
gives. Adding a checker is adding its module; the scenario schema, `drill schema`, `drill
validate`, the runner (what it samples and watches: `samples_plan`, `watches_of`), `evaluate`, the
reports and the pytest plugin all read this one list. A module without `CHECKER` is a helper the
checkers share (`verdict`, `sessions`, ...); the rule and its errors are `drills.core.discovery`'s,
shared with the fault kinds, the signals and the samplers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drills.checkers.protocol import Checker, Metric, Watch
from drills.core.discovery import Declared, declared, indexed, instance_of, lookup


def _discover() -> dict[str, Checker[Any]]:
    found: list[Declared[Checker[Any]]] = declared("drills.checkers", "CHECKER", instance_of(Checker), "a Checker",
                     skip=("registry", "protocol"), required=False)
    return dict(sorted(indexed(((d.module, d.value) for d in found), lambda c: c.name, "checker").items()))


CHECKERS: dict[str, Checker[Any]] = _discover()


def checker_of(name: str) -> Checker[Any]:
    """The checker named `name` (an expectation's `checker:`); an unknown one is a `RegistryError`."""
    return lookup(CHECKERS, name, "checker")


def metrics_of(checker: object) -> tuple[Metric, ...]:
    """The metrics a verdict's checker contributes (none for a name no checker has: an old journal)."""
    found = CHECKERS.get(str(checker))
    return found.metrics if found is not None else ()


def is_safety(checker: object) -> bool:
    """Whether one run's history proves a violation of the checker's invariant (`Checker.invariant`);
    a name no checker has (an old journal) is not."""
    found = CHECKERS.get(str(checker))
    return found is not None and found.invariant == "safety"


def trouble_of(checker: object) -> tuple[str, ...]:
    """The measured keys of the checker's verdicts that grow toward a failure (`Checker.trouble`)."""
    found = CHECKERS.get(str(checker))
    return found.trouble if found is not None else ()


def samples_needed(expectations: Iterable[Any]) -> frozenset[str]:
    """What the runner must sample through a drill for these expectations (e.g. `leaders`)."""
    return frozenset(s for exp in expectations for s in checker_of(exp.checker).samples)


def sampled_of(expectations: Iterable[Any], sample: str) -> frozenset[str]:
    """What the runner must take `sample` of for these expectations: e.g. the `leaders` of
    `postgres` and of `rabbitmq@drill-events` (a checker's `sampled`)."""
    return frozenset(checker_of(exp.checker).sampled(exp) for exp in expectations
                     if sample in checker_of(exp.checker).samples)


def samples_plan(expectations: Iterable[Any]) -> dict[str, frozenset[str]]:
    """What the runner samples through a drill for these expectations: each need their checkers
    declare (`Checker.samples`) -> what of (`Checker.sampled`), e.g. {"leaders": {"postgres"}}.
    The runner starts drills.sampling.registry's samplers for each, whatever the need."""
    exps = list(expectations)
    return {need: sampled_of(exps, need) for need in sorted(samples_needed(exps))}


def watches_of(expectations: Iterable[Any]) -> list[Watch]:
    """The signals the runner watches live for these expectations (`Checker.watches`), in their order."""
    return [w for exp in expectations for w in checker_of(exp.checker).watches(exp)]


def subject_of(exp: Mapping[str, Any], scenario: Mapping[str, Any]) -> str:
    """What an expectation of a journal's scenario is about (its verdict's subject)."""
    found = CHECKERS.get(str(exp.get("checker")))
    return found.subject(exp, scenario) if found is not None else str(exp.get("signal") or exp.get("component") or "")
