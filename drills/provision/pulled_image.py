"""`drill setup` pulls a component's image where a registry answers (MongoDB's `mongo:7`, or the
site's own image its variable names): what a component runs that has no Debian package, so that
unlike the other images it cannot be built here; without a registry its drills are NOT RUN.

Which images those are is the components' business (`drills.components.registry.pulled_images`,
a layer above this one): callers hand them down as `Pulled`. A pull that failed is remembered (in
the cache dir, per profile) for `RETRY_AFTER_S`, so that `drill setup` on a machine without a
registry stays fast and says so in one line instead of trying again on every call; `drill setup
--retry-pull` tries at once. A pull is bounded: it gives up when the engine reports nothing for
`IDLE_TIMEOUT_S` (a registry that drops packets) or after `TOTAL_TIMEOUT_S` in all.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from drills.core.errors import SetupError
from drills.provision.progress import Reporter

if TYPE_CHECKING:
    import docker

RETRY_AFTER_S = 6 * 3600.0
IDLE_TIMEOUT_S = 60
TOTAL_TIMEOUT_S = 20 * 60.0
PROGRESS_EVERY_S = 10.0


class Pulled(Protocol):
    """What provisioning uses of a component's pulled image (`drills.components.base.PulledImage`)."""

    @property
    def reference(self) -> str: ...
    @property
    def variable(self) -> str: ...
    @property
    def profile(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def present(self) -> Callable[[docker.DockerClient, str], bool]: ...
    def image(self, environ: Mapping[str, str] | None = None) -> str: ...


def check_name(pulled: Pulled) -> str:
    """`drill doctor`'s check of the image (`mongo image`): `--stack` leaves it out for a stack
    without the component."""
    return f"{pulled.profile} image"


def invalid_name(pulled: Pulled, exc: SetupError) -> SetupError:
    """`exc` (an image name the engine cannot parse) with the hint naming `pulled`'s own example."""
    from drills.provision.base_image import name_hint

    return SetupError(exc.args[0], hint=name_hint(f"registry.example/{pulled.reference}"))


@dataclass(frozen=True)
class PullFailure:
    image: str
    at: float  # wall clock (epoch seconds): it must mean the same in the next process
    error: str


class Action(enum.Enum):
    HAVE = "have"  # the image is here: nothing to do
    PULL = "pull"
    SKIP = "skip"  # a pull of this image failed recently: say so, do not try again yet


def decide(*, present: bool, image: str, failure: PullFailure | None, now: float, retry: bool,
           retry_after_s: float = RETRY_AFTER_S) -> Action:
    if present:
        return Action.HAVE
    if retry or failure is None or failure.image != image:
        return Action.PULL
    # A clock set back makes the age negative: try again rather than skip for an unknown time.
    age = now - failure.at
    return Action.SKIP if 0 <= age < retry_after_s else Action.PULL


def memo_path(pulled: Pulled) -> Path:
    from drills.provision.images import cache_dir

    # Named by the profile: the memo a `drill setup` of an older Drills left is still read.
    return cache_dir() / f"{pulled.profile}-pull-failed.json"


def last_failure(path: Path) -> PullFailure | None:
    try:
        data = json.loads(path.read_text())
        return PullFailure(str(data["image"]), float(data["at"]), str(data["error"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no memo, or an unreadable one: try the pull


def remember_failure(failure: PullFailure, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"image": failure.image, "at": failure.at, "error": failure.error}) + "\n")
    tmp.replace(path)  # atomic: two `drill setup` at once never leave half a file


def forget_failure(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def age_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def fix_text(pulled: Pulled, image: str) -> str:
    """What a user does about an absent pulled image (doctor's fix column and setup's warning)."""
    tar = f"{pulled.profile}.tar"
    return (f"docker pull {image} where a registry answers (here: `drill setup --retry-pull`); "
            f"offline: `docker save {image} -o {tar}` on a machine that has it, then `docker load -i {tar}`; "
            f"or point {pulled.variable} at your own image (e.g. registry.example/{pulled.reference})")


def pull(image: str, reporter: Reporter, *, idle_timeout_s: float = IDLE_TIMEOUT_S,
         total_timeout_s: float = TOTAL_TIMEOUT_S,
         present: Callable[[docker.DockerClient, str], bool] | None = None) -> str | None:
    """Pull `image`; None when it is here afterwards (`present`: default, the engine has it), else
    why not (one line)."""
    import docker.errors
    import requests.exceptions
    import urllib3.exceptions

    from drills.provision import base_image, engine

    present = present or base_image.present

    client = engine.client()
    # docker-py pulls without any read timeout, so the stream is read on a thread of its own and
    # watched from here: an engine that reports nothing (waiting on a registry that drops packets)
    # or a pull that never ends is given up on. The reader thread is a daemon: it ends with this
    # process, and the engine cancels the pull when its client goes.
    chunks: queue.Queue[tuple[str, Any]] = queue.Queue()

    def read() -> None:
        try:
            for chunk in client.api.pull(image, stream=True, decode=True):
                chunks.put(("chunk", chunk))
            chunks.put(("end", None))
        except docker.errors.APIError as exc:
            chunks.put(("error", _one_line(exc.explanation or exc)))  # the engine's words, not the HTTP wrapping
        except (docker.errors.DockerException, requests.exceptions.RequestException,
                urllib3.exceptions.HTTPError, OSError) as exc:
            chunks.put(("error", _one_line(exc)))

    threading.Thread(target=read, name=f"pull {image}", daemon=True).start()
    deadline = time.monotonic() + total_timeout_s
    layers: dict[str, str] = {}
    next_report = time.monotonic() + PROGRESS_EVERY_S
    while True:
        try:
            kind, value = chunks.get(timeout=max(0.0, min(idle_timeout_s, deadline - time.monotonic())))
        except queue.Empty:
            if time.monotonic() >= deadline:
                return f"still pulling after {total_timeout_s:.0f} s; gave up"
            return f"the engine reported nothing for {idle_timeout_s:.0f} s (a registry that does not answer?); gave up"
        if kind == "error":
            return str(value)
        if kind == "end":
            break
        if time.monotonic() >= deadline:
            return f"still pulling after {total_timeout_s:.0f} s; gave up"
        error = _chunk_error(value)
        if error is not None:
            return error
        if isinstance(value, dict) and value.get("id") and value.get("status"):
            layers[str(value["id"])] = str(value["status"])
        if time.monotonic() >= next_report:
            done = sum(1 for s in layers.values() if s in ("Pull complete", "Already exists"))
            reporter.detail(f"pulling {image}: {done}/{len(layers)} layers done")
            next_report = time.monotonic() + PROGRESS_EVERY_S
    if not present(client, image):
        return "the engine ended the pull without the image"
    client.close()
    return None


def _chunk_error(chunk: Any) -> str | None:
    if isinstance(chunk, dict) and chunk.get("error"):
        return _one_line(chunk["error"])
    return None


def _one_line(exc: object) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:240]


def ensure(client: docker.DockerClient, reporter: Reporter, pulled: Pulled, *, retry: bool = False,
           idle_timeout_s: float = IDLE_TIMEOUT_S, now: float | None = None) -> bool:
    """`pulled`'s image (the site's own where its variable names one) is here (True), or one clear
    line says why not and what to do (False). Never raises for a registry that does not answer: the
    rest of the drills run without that component."""
    image, name, memo = pulled.image(), pulled.name, memo_path(pulled)
    failure = last_failure(memo)
    now = time.time() if now is None else now
    try:
        here = pulled.present(client, image)
    except SetupError as raised:  # a name no registry could serve: nothing to pull, nothing to retry
        exc = invalid_name(pulled, raised)
        reporter.warn(f"{name} image: {exc.args[0]} ({exc.hint}); {name} drills are NOT RUN")
        return False
    action = decide(present=here, image=image, failure=failure, now=now, retry=retry)
    if action is Action.HAVE:
        forget_failure(memo)
        reporter.ok(f"{name} image {image}")
        return True
    if action is Action.SKIP:
        assert failure is not None
        reporter.warn(f"{name} image {image} absent: its pull failed {age_text(now - failure.at)} ({failure.error}) "
                      f"and is retried after {RETRY_AFTER_S / 3600:.0f} h (`drill setup --retry-pull`: now); "
                      f"{name} drills are NOT RUN (`drill doctor` lists them and how to fix it)")
        return False
    reporter.step(f"pulling {image} ({name}; needs a registry)")
    error = pull(image, reporter, idle_timeout_s=idle_timeout_s, present=pulled.present)
    if error is None:
        forget_failure(memo)
        reporter.ok(f"{name} image {image} pulled")
        return True
    remember_failure(PullFailure(image, time.time(), error), memo)
    reporter.warn(f"{name} image {image} could not be pulled ({error}): {name} drills are NOT RUN "
                  f"(`drill doctor` lists them and how to fix it); the rest of the setup is done")
    return False
