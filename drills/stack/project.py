"""One run's Compose project of a stack (its stack file's; the reference stack's by default): bring
up, wait until ready, tear down.

    with ComposeProject.create() as stack:          # up + ready, or an error naming what is not
        stack.containers("postgres.leader")
    # every container, network and volume of the project is gone here, even after an exception,
    # Ctrl-C or SIGTERM (and `drill clean` removes what a killed runner left).

A project is also what faults act on (`drills.faults.base.FaultTarget`): its containers by role,
their addresses, and compose itself to respawn a destroyed node.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drills.components._effective_stack import addressed, endpoints
from drills.components._members import service_of_host
from drills.core import interrupts, local_state
from drills.core.dockerlabels import project_selector
from drills.core.errors import ScenarioError, StackError
from drills.provision.compose import compose_command
from drills.stack import build, network, override, ports, readiness, state, subnets, topology
from drills.stack.credentials import Credentials
from drills.stack.definition import REFERENCE, ROLE_LABEL, RoleMap, StackDefinition, StackFile
from drills.stack.env import MONGO_PROFILE, Generated, Secrets, StackSettings, compose_env, new_project_name
from drills.stack.removal import Removal, remove_project
from drills.stack.services import ServiceInfo, inspect_names, snapshot

if TYPE_CHECKING:
    import docker
    from docker.models.containers import Container

    from drills.components.base import Credential
    from drills.provision.progress import Reporter

DOWN_TIMEOUT_S = 3  # containers die with the project; a graceful database shutdown buys nothing
UP_ATTEMPTS = 3  # a subnet or port taken by a concurrent runner between our pick and `up`


def default_definition() -> StackDefinition:
    """The reference stack's definition (stacks/reference/stack.yaml), read without line numbers:
    the file ships with Drills and `drill validate` (tests/unit) checks it with them."""
    from ruamel.yaml import YAML

    from drills.provision.images import project_root

    path = project_root() / "stacks" / REFERENCE / "stack.yaml"
    return StackDefinition(path, StackFile.model_validate(YAML(typ="safe").load(path.read_text())))


def compose_file() -> Path:
    """The reference stack's (first) Compose file."""
    return default_definition().compose_files()[0]


def _pulled_image(profile: str, variables: Mapping[str, str]) -> str:
    """The image a pulled component's profile runs: as handed to the Compose files, else its default."""
    from drills.components.registry import pulled_images

    pulled = next(p for p in pulled_images() if p.profile == profile)
    return variables.get(pulled.variable, pulled.reference)


@dataclass(frozen=True)
class UpReport:
    project: str
    compose_s: float  # `compose up -d` returned
    ready_s: Mapping[str, float]  # per wait, from the start of `up`
    total_s: float


class ComposeProject:
    def __init__(self, settings: StackSettings, *, client: docker.DockerClient | None = None,
                 owner_kind: str = "run") -> None:
        self._settings = settings
        self._client = client
        self.owner_kind = owner_kind  # "run": removed by `drill clean` once its process is gone
        self._trap = contextlib.ExitStack()  # `with ComposeProject…`: SIGTERM/SIGHUP handlers until exit
        self._credentials = Credentials(self)  # resolved once per project object, when first needed
        self._names: dict[str, tuple[str, ...]] = {}  # container id -> its names (host_names)

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def create(cls, *, client: docker.DockerClient | None = None, images: Mapping[str, str] | None = None,
               profiles: Mapping[str, bool] | None = None, project: str | None = None, owner_kind: str = "run",
               reporter: Reporter | None = None, definition: StackDefinition | None = None) -> ComposeProject:
        """A new project of `definition` (default: the reference stack file): unique name, free
        subnet, fresh secrets and stack-file variables, images built if the stack runs Drills'
        reference images, and what the Compose model says (`compose config`): the role map (the
        stack file's and the services' labels), the network its components share, the host ports
        Drills must publish itself (its override) and, unless `images` is given, the stack's own
        images built. An optional profile runs when its image is here; `profiles` (profile name ->
        on) forces those it names on or off."""
        from drills.provision import engine
        from drills.provision.base_image import present

        client = client or engine.client()
        definition = definition or default_definition()
        build_own = images is None
        if images is None:
            images = {}
            if definition.spec.reference_images:
                from drills.provision.images import ensure_images

                images = ensure_images(client, reporter)
        running: list[str] = []
        variables: dict[str, str] = {}
        left_out: dict[str, str] = {}
        for option in definition.spec.optional_profiles:
            image = (os.environ.get(option.image_variable, "").strip() if option.image_variable else "") \
                or option.needs_image
            forced = (profiles or {}).get(option.profile)
            on = present(client, image) if forced is None else forced
            if option.image_variable:
                variables[option.image_variable] = image
            variables.update(option.variables_on if on else option.variables_off)
            if on:
                running.append(option.profile)
            else:
                left_out[option.profile] = f"image {image} absent" if forced is None else \
                    f"profile {option.profile} left out on request"
        texts = "\n".join(f.read_text() for f in definition.compose_files())
        settings = StackSettings(
            project=project or new_project_name(),
            subnet=subnets.choose(client),
            images=dict(images),
            secrets=Secrets.generate(definition.spec.drills_variables()),
            generated=Generated.generate(definition.spec.own_variables()),
            profiles=tuple(running),
            mongo_image=_pulled_image(MONGO_PROFILE, variables),
            mongo_not_run=left_out.get(MONGO_PROFILE, ""),
            ports={},  # picked below, once the override says which ports Drills publishes itself
            definition=definition,
            variables=variables,
        )
        stack = cls(settings, client=client, owner_kind=owner_kind)
        model = stack.config(profiles=tuple(p.profile for p in definition.spec.optional_profiles))
        roles = stack.read_roles(model)
        generated = override.generate(definition, roles, model).text(settings.project)
        stack._settings = dataclasses.replace(
            settings, roles=roles, override=generated, ports=ports.assign(f"{texts}\n{generated}"),
            network=network.network_name(model, network.network_key(definition, roles, model), settings.project))
        if build_own:
            try:
                stack.build_images(model, reporter)
            except BaseException:
                stack.discard()  # nothing started: nothing of it stays
                raise
        return stack

    @classmethod
    def attach(cls, project: str, client: docker.DockerClient | None = None) -> ComposeProject:
        """A project started earlier (by `drill stack up` or a running drill)."""
        return cls(state.load(project), client=client, owner_kind="stack")

    # ---- what it is ---------------------------------------------------------------------------

    @property
    def settings(self) -> StackSettings:
        return self._settings

    @property
    def project(self) -> str:
        return self._settings.project

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            from drills.provision import engine

            self._client = engine.client()
        return self._client

    @property
    def network_name(self) -> str:
        # Settings saved before the network was read from the Compose model name the reference's key.
        return self._settings.network or f"{self.project}_{self.definition.spec.compose.network or 'stack'}"

    def env(self) -> dict[str, str]:
        return compose_env(self._settings, os.environ)

    @property
    def definition(self) -> StackDefinition:
        return self._settings.definition or default_definition()

    def credential(self, ref: Credential) -> str:
        """The value of a password the stack file names (`drills.stack.credentials`); StackError
        naming its field and what to add when it cannot be read."""
        return self._credentials.resolve(ref)

    def secret_values(self) -> list[str]:
        """Every secret of the run: Drills' own, the stack file's generated variables and its
        credentials (those that resolve now): what kept logs redact."""
        return [*self._settings.secrets.env().values(), *self._settings.generated.values.values(),
                *self._credentials.known()]

    def service_env(self, service: str) -> list[str] | None:
        """The environment (`KEY=value`) of `service`'s container; None when it has none."""
        info = self.snapshot().get(service)
        if info is None:
            return None
        env = self.client.containers.get(info.container_id).attrs.get("Config", {}).get("Env")
        return [str(item) for item in env or []]

    @property
    def files(self) -> tuple[Path, ...]:
        """The Compose files, in `-f` order: the stack's own, the command line's overrides, then
        Drills' own (the host ports it needs: `drills.stack.override`), when it adds anything."""
        own = self.definition.compose_files()
        if not self._settings.override:
            return own
        # Written here, not once at create: a stack attached later, or whose file `drill clean`
        # pruned meanwhile (a project with no container yet), still finds it.
        return (*own, state.write_override(self.project, self._settings.override))

    def argv(self, *args: str, profiles: tuple[str, ...] | None = None) -> list[str]:
        chosen = self._settings.profiles if profiles is None else profiles
        profiles_args = [a for p in chosen for a in ("--profile", p)]
        files = [a for f in self.files for a in ("-f", str(f))]
        return [*compose_command(), "-p", self.project, *files, *profiles_args, *args]

    # ---- lifecycle ----------------------------------------------------------------------------

    def run_compose(self, *args: str, capture: bool = True, timeout_s: float = 300,
                    profiles: tuple[str, ...] | None = None) -> subprocess.CompletedProcess[str]:
        # Its own session: a signal to our process group (Ctrl-C, systemd, `timeout`) must not
        # kill a `compose down` that is removing the stack; an interrupt here kills compose itself.
        return subprocess.run(self.argv(*args, profiles=profiles), env=self.env(), text=True, capture_output=capture,
                              stdin=subprocess.DEVNULL, timeout=timeout_s, start_new_session=True)

    def config(self, profiles: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The stack's Compose model as Compose resolves it (`config --format json`): every file,
        override, profile (the stack's, or `profiles`) and variable applied."""
        done = self.run_compose("config", "--format", "json", timeout_s=60, profiles=profiles)
        if done.returncode != 0:
            raise ScenarioError(f"docker compose config failed for the stack {self.definition.name} "
                                f"({', '.join(map(str, self.files))}): {_tail(done.stderr)}",
                                hint="fix the Compose files or overrides (`docker compose -f ... config` shows it)")
        try:
            data = json.loads(done.stdout)
        except ValueError as exc:
            raise StackError(f"docker compose config printed no JSON: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def read_roles(self, model: Mapping[str, Any] | None = None) -> RoleMap:
        """Who plays which role: the stack file's `roles:` and the services' io.drills.role labels
        (in `model`, the Compose model of every profile; default: read now). A role naming a
        service Compose does not define, or a component with no service, is the stack file's
        mistake, found before anything starts (exit 2)."""
        every_profile = tuple(p.profile for p in self.definition.spec.optional_profiles)
        services = (model if model is not None else self.config(profiles=every_profile)).get("services") or {}
        labels = {name: {str(k): str(v) for k, v in ((svc or {}).get("labels") or {}).items()}
                  for name, svc in services.items()}
        roles = RoleMap.build(self.definition.declared_roles(), labels)
        defined = set(services)
        problems = [f"role {role} names {', '.join(missing)}, which the Compose files do not define"
                    for role, missing in roles.unknown_services(defined).items()]
        problems += [f"component {c} has no service: name its services under roles: {c}: [...] or label them "
                     f"{ROLE_LABEL}: {c}" for c in self.definition.component_names()
                     if not roles.members(c, defined)]
        problems += [f"{where} names the role {role}, which no service plays: name its services under roles: "
                     f"{role}: [...] or label them {ROLE_LABEL}: {role}"
                     for where, role in self.definition.named_roles().items() if not roles.members(role, defined)]
        if problems:
            raise ScenarioError(f"stack {self.definition.name} ({self.definition.path}): " + "; ".join(problems),
                                hint="fix the stack file's roles: (or the services' labels)")
        return roles

    def defined_services(self) -> tuple[str, ...]:
        """The services the stack's Compose file defines for its profiles (`config --services`):
        what a node is called even when its container is gone (after a total failure)."""
        done = self.run_compose("config", "--services", timeout_s=60)
        if done.returncode != 0:
            raise StackError(f"docker compose config failed for {self.project}: {_tail(done.stderr)}")
        return tuple(sorted(line.strip() for line in done.stdout.splitlines() if line.strip()))

    def build_images(self, model: Mapping[str, Any], reporter: Reporter | None = None) -> None:
        """Build the images of `model`'s services (of the running profiles) that Compose builds and
        that are not here, before the boot: a build left to `compose up` would be timed as the
        stack's start, under `up`'s time limit. StackError with the end of the output on failure."""
        from drills.provision.base_image import present
        from drills.provision.progress import ConsoleReporter

        wanted = build.to_build(model, self.project, self._settings.profiles, partial(present, self.client))
        if not wanted:
            return
        say = reporter or ConsoleReporter()
        say.step(f"building the stack's own images ({', '.join(f'{s}: {i}' for s, i in wanted.items())}) "
                 "with `docker compose build`, before the boot is timed")
        t0 = time.monotonic()
        try:
            done = self.run_compose("build", *wanted, timeout_s=build.BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"docker compose build of {', '.join(wanted)} took over {build.BUILD_TIMEOUT_S:.0f} s "
                             f"for the stack {self.definition.name}",
                             hint="build them by hand first (`docker compose -f ... build`) and look where it hangs"
                             ) from exc
        if done.returncode != 0:
            raise StackError(f"docker compose build failed for the stack {self.definition.name} "
                             f"({', '.join(wanted)}):\n{_tail(done.stderr or done.stdout, 15)}",
                             hint="fix the Dockerfile or its build context; `docker compose -f ... build "
                                  f"{' '.join(wanted)}` in {self.files[0].parent} shows the whole output")
        say.ok(f"images built in {time.monotonic() - t0:.1f} s")

    def discard(self) -> None:
        """Forget a project created and never started: the override file its Compose commands wrote
        (`drill doctor --stack` asks Compose about a stack it never starts)."""
        state.drop_override(self.project)

    def compose(self, *args: str) -> None:
        """Run compose on this project (e.g. `up -d --no-deps pg2` to respawn a node)."""
        done = self.run_compose(*args)
        if done.returncode != 0:
            raise StackError(f"docker compose {' '.join(args)} failed for {self.project}: {_tail(done.stderr)}")

    def up(self, *, wait: bool = True, timeout_s: float | None = None, reboots: int = 1,
           keep_volumes: bool = False) -> UpReport:
        """Bring the stack up and wait until it is ready. A stack that does not get ready is booted
        afresh (`reboots` times) before giving up. It was added for RabbitMQ coming up with an app
        queue unusable (every client got 541 INTERNAL_ERROR), whose cause is now avoided
        (drills.components._rabbitmq_api); under heavy load a boot can still miss the timeout (etcd
        overloaded). Each such boot is reported on stderr with what the laggards said, so the
        flake stays visible.

        `keep_volumes`: a saved stack brought back (its data is the user's): never `down -v` to
        retry, neither a fresh boot nor another subnet; a failure is reported instead."""
        if keep_volumes:
            reboots = 0
        timeout_s = timeout_s if timeout_s is not None else self.definition.spec.readiness_timeout_s
        for attempt in range(reboots + 1):
            try:
                return self._up_once(wait=wait, timeout_s=timeout_s, repick=not keep_volumes)
            except NotReady as exc:
                if attempt == reboots:
                    raise
                sys.stderr.write(f"warning: {self.project} not ready; booting it afresh ({exc})\n")
                self.run_compose("down", "-v", "--remove-orphans", "-t", "1")
        raise AssertionError("unreachable")

    def _up_once(self, *, wait: bool, timeout_s: float, repick: bool = True) -> UpReport:
        # Owned before anything exists, so a crash from here on leaves something `drill clean` finds.
        local_state.register_owner(self.project, self.owner_kind)
        state.save(self._settings)
        t0 = time.monotonic()
        tried: list[ipaddress.IPv4Network] = []
        for attempt in range(UP_ATTEMPTS):
            done = self.run_compose("up", "-d", "--pull", self.definition.spec.compose.pull, "--remove-orphans")
            if done.returncode == 0:
                break
            retry = repick and attempt + 1 < UP_ATTEMPTS
            if retry and subnets.is_overlap_error(done.stderr):
                # Another runner took the subnet or a port between our pick and our `up`: pick again.
                tried.append(self._settings.subnet)
                self._repick(subnet=subnets.choose(self.client, tried))
            elif retry and ports.is_conflict_error(done.stderr):
                self._repick(host_ports=ports.assign("\n".join(f.read_text() for f in self.files)))
            else:
                raise StackError(f"docker compose up failed for {self.project}: {_tail(done.stderr)}",
                                 hint=f"`drill stack logs --project {self.project}`; `drill stack down --project "
                                      f"{self.project}` removes it")
        compose_s = time.monotonic() - t0
        try:
            ready = readiness.wait_ready(self, since=t0, timeout_s=timeout_s, boot=True) if wait else {}
        except StackError as exc:
            # What the laggards said last is what the user needs to see (and a CI log keeps): the
            # stack is removed right after by whoever owns it.
            raise NotReady(f"{exc.args[0]}\n{self.laggards_report()}".rstrip(),
                           hint=exc.hint or "`drill stack up --project <name>` and `drill stack logs` to "
                                            "look closer") from exc
        return UpReport(self.project, compose_s, ready, time.monotonic() - t0)

    def laggards_report(self, lines: int = 15) -> str:
        """The last log lines and health-check output of every container not running healthy."""
        out = []
        try:
            for c in self.client.containers.list(all=True, filters=project_selector(self.project),
                                                 ignore_removed=True):
                state = c.attrs.get("State", {})
                health = (state.get("Health") or {})
                if state.get("Status") == "running" and health.get("Status") in (None, "healthy"):
                    continue
                if state.get("Status") == "exited" and state.get("ExitCode") == 0:
                    continue  # a one-shot (mongo-init) that did its job
                probe = (health.get("Log") or [{}])[-1].get("Output", "").strip()[-300:]
                logs = c.logs(tail=lines).decode(errors="replace").rstrip()
                out.append(f"--- {c.name}: {state.get('Status')} {health.get('Status') or ''}"
                           + (f"\n    last health check: {probe}" if probe else "") + f"\n{logs}")
        except Exception as exc:  # diagnostics must never hide the original error
            out.append(f"(could not collect the containers' logs: {exc})")
        return "\n".join(out)

    def _repick(self, *, subnet: ipaddress.IPv4Network | None = None,
                host_ports: Mapping[str, int] | None = None) -> None:
        self.run_compose("down", "-v", "--remove-orphans", "-t", "1")
        self._settings = dataclasses.replace(self._settings, subnet=subnet or self._settings.subnet,
                                             ports=host_ports or self._settings.ports)
        state.save(self._settings)

    def down(self) -> Removal:
        """Remove every container, network and volume of the project: what compose missed is
        removed by label, and what the engine refuses comes back in `left` with the command that
        removes it (never raised: a teardown that fails half-way would leave more). The records go
        once nothing is left. A signal arriving meanwhile is raised once all is done (drills.core.interrupts)."""
        with interrupts.shielded():
            # Compose's own `down` fails on an endpoint the engine still holds; the removal by label
            # below detaches it and says what it could not remove.
            self.run_compose("down", "-v", "--remove-orphans", "-t", str(DOWN_TIMEOUT_S))
            return remove_project(self.client, self.project)

    def __enter__(self) -> ComposeProject:
        # SIGTERM and SIGHUP unwind like Ctrl-C, so `__exit__` tears the stack down (main thread only).
        self._trap = contextlib.ExitStack()
        self._trap.enter_context(interrupts.trapped())
        try:
            self.up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            for leftover in self.down().left:
                sys.stderr.write(f"warning: {leftover}\n")
        finally:
            self._trap.close()

    # ---- topology (drills.faults.base.FaultTarget) --------------------------------------------

    def snapshot(self) -> dict[str, ServiceInfo]:
        return snapshot(self.client, self.project, self.network_name)

    def host_names(self, snap: Mapping[str, ServiceInfo]) -> dict[str, tuple[str, ...]]:
        """service -> every name its running container answers to on the stack network (hostname,
        aliases, DNS names), read by inspect: the container list has no hostname. Kept per container
        id, which a recreated container changes, so each container costs one call."""
        found = {}
        for info in snap.values():
            if info.state != "running":
                continue
            if info.container_id not in self._names:
                try:
                    doc = self.client.api.inspect_container(info.container_id)
                except Exception:  # gone meanwhile, engine busy: matched by what the snapshot says
                    continue
                self._names[info.container_id] = inspect_names(doc, self.network_name)
            found[info.service] = self._names[info.container_id]
        return found

    def service_of_host(self, host: str, snap: Mapping[str, ServiceInfo] | None = None) -> str | None:
        """The service a system calls `host` (an address, the service's name, a hostname or alias on
        the stack network): `drills.components.base.Live`."""
        snap = self.snapshot() if snap is None else snap
        return service_of_host(host, addressed(snap)) or \
            service_of_host(host, addressed(snap, self.host_names(snap)))

    def services(self, role: str) -> list[str]:
        return topology.resolve(self, role)

    def containers(self, role: str) -> list[Container]:
        snap = self.snapshot()
        return [self.client.containers.get(snap[s].container_id) for s in self.services(role) if s in snap]

    def ip_of(self, container: Container) -> str:
        container.reload()
        net = container.attrs["NetworkSettings"]["Networks"].get(self.network_name)
        if not net or not net.get("IPAddress"):
            raise StackError(f"{container.name} has no address on {self.network_name} (disconnected?)")
        return str(net["IPAddress"])

    def gateway_ip(self) -> str:
        """The stack network's gateway (the host, as the containers reach it) as the engine holds
        it; the settings' subnet's when the network is not there."""
        live = network.read_ipam(self.client, self.network_name)
        return live[1] if live is not None else self._settings.gateway_ip()

    def network_subnet(self) -> str:
        """The stack network's subnet as the engine holds it (Docker's pick unless the Compose
        files read the one Drills picked); the settings' when the network is not there."""
        live = network.read_ipam(self.client, self.network_name)
        return str(live[0] if live is not None else self._settings.subnet)

    def endpoint(self, service: str, port: int) -> tuple[str, int]:
        """Where the host reaches `port` of `service` (127.0.0.1 and a random published port)."""
        found = endpoints(self.snapshot(), [service], port)
        if service not in found:
            raise StackError(f"{service} of {self.project} is not running or does not publish {port}")
        return found[service]


class NotReady(StackError):
    """The stack's containers started but the stack did not get ready in time."""


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])

