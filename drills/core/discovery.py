"""The one discovery rule of the registries (fault kinds, checkers, signals): a part is a module.

`declared(package, attribute, accepts, ...)` imports every module of `package` (its subpackages
count as modules; a name starting with `_` is private, one in `skip` belongs to the protocol) and
keeps what each defines under `attribute`, in module-name order (`first` names the modules that
come before the others, in its order). A module that fails to import, that defines the attribute
as something else, or (when `required`) that does not define it, is a `RegistryError` naming the
module: a part that is silently missing would be a drill that silently checks less.

`indexed` keys what was found by its name (a name twice is an error naming both modules), and
`lookup` reads a registry by a name, refusing an unknown one with the names there are.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeGuard, TypeVar

from drills.core.errors import RegistryError

T = TypeVar("T")
_MISSING = object()


@dataclass(frozen=True)
class Declared(Generic[T]):
    """What one module declares under the attribute asked for."""

    module: str  # the module's full name, e.g. drills.faults.process
    value: T


def modules_of(package: str, *, skip: Collection[str] = (), first: Sequence[str] = ()) -> list[str]:
    """The names (last part) of `package`'s modules that may declare a part, in the order found."""
    path = importlib.import_module(package).__path__
    names = [m.name for m in pkgutil.iter_modules(path) if not m.name.startswith("_") and m.name not in skip]
    return sorted(names, key=lambda n: (first.index(n) if n in first else len(first), n))


def instance_of(cls: type[T]) -> Callable[[object], TypeGuard[T]]:
    """`accepts` for a part that is one instance of `cls`."""
    def accepts(value: object) -> TypeGuard[T]:
        return isinstance(value, cls)
    return accepts


def declared(package: str, attribute: str, accepts: Callable[[object], TypeGuard[T]], what: str, *,
             skip: Collection[str] = (), first: Sequence[str] = (), required: bool = True) -> list[Declared[T]]:
    """Every module of `package` that defines `attribute`, with its value (see the module's
    docstring). `accepts(value)` says whether a value is a `what` (e.g. "a Checker"): the caller's
    type `T`. Without `required`, a module without the attribute is a helper and is passed over."""
    found: list[Declared[T]] = []
    for name in modules_of(package, skip=skip, first=first):
        module_name = f"{package}.{name}"
        try:
            module = importlib.import_module(module_name)
        except RegistryError:
            raise
        except Exception as exc:  # any error of the module's own code: say which module it is
            raise RegistryError(f"{module_name} could not be imported: {type(exc).__name__}: {exc}",
                                hint=f"fix {module_name}, or move it out of {package} if it is not a part") from exc
        value = getattr(module, attribute, _MISSING)
        if value is _MISSING:
            if required:
                raise RegistryError(f"{module_name} defines no {attribute}: every module of {package} declares "
                                    f"{what} there", hint=f"give {module_name} `{attribute} = ...`, or, for a "
                                                          f"module that is not a part, move it out of {package}")
            continue
        if not accepts(value):
            raise RegistryError(f"{module_name}.{attribute} is not {what} (it is a {type(value).__name__})",
                                hint=f"make {module_name}.{attribute} {what}, or rename the attribute")
        found.append(Declared(module_name, value))
    return found


def indexed(found: Iterable[tuple[str, T]], name: Callable[[T], str], what: str) -> dict[str, T]:
    """`(module, part)` pairs keyed by each part's name, in the order given; a name declared twice
    is an error naming both modules."""
    by_name: dict[str, T] = {}
    where: dict[str, str] = {}
    for module, part in found:
        key = name(part)
        if key in by_name:
            raise RegistryError(f"two {what}s are named {key!r}: in {where[key]} and in {module}",
                                hint="rename one of them (a name is how scenario files and records refer to it)")
        by_name[key], where[key] = part, module
    return by_name


def lookup(registry: Mapping[str, T], name: str, what: str) -> T:
    """The part named `name`; an unknown name is a `RegistryError` that lists the known ones."""
    try:
        return registry[name]
    except KeyError:
        known = ", ".join(registry) or "none"
        raise RegistryError(f"no {what} {name!r}", hint=f"use one of the {what}s there are: {known} "
                                                        f"(`drill schema` lists them)") from None
