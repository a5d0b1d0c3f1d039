"""Images for the nodes, taken from the main engine: `docker save | docker load`, never a pull
(the nodes have no route out). An image whose ID a node already has is skipped."""

from __future__ import annotations

import subprocess

from drills.cluster.commands import attempt
from drills.cluster.daemon import docker
from drills.cluster.plan import NodePlan
from drills.core.errors import SetupError

LOAD_TIMEOUT_S = 600.0


def main_engine_id(reference: str) -> str:
    """The image ID of `reference` on the main engine (read only), or a SetupError saying how to get it."""
    result = attempt(["docker", "image", "inspect", "--format", "{{.Id}}", reference], timeout_s=30)
    if result.returncode != 0:
        raise SetupError(f"the main Docker engine has no image {reference}",
                         hint="build or pull it there first (`drill setup` builds the stack's images), "
                              "or name another with --images")
    return result.stdout.strip()


def node_id(node: NodePlan, reference: str) -> str | None:
    result = attempt(docker(node, "image", "inspect", "--format", "{{.Id}}", reference), timeout_s=30)
    return result.stdout.strip() if result.returncode == 0 else None


def ensure(node: NodePlan, reference: str, image_id: str) -> bool:
    """`reference` on `node` with the main engine's `image_id`; True when it had to be loaded."""
    if node_id(node, reference) == image_id:
        return False
    save = subprocess.Popen(["docker", "save", reference], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        load = subprocess.run(docker(node, "load", "-q"), stdin=save.stdout, capture_output=True,
                              timeout=LOAD_TIMEOUT_S, check=False)
    finally:
        assert save.stdout is not None
        save.stdout.close()
        save_err = save.stderr.read() if save.stderr else b""
        if save.stderr:
            save.stderr.close()
        save.wait(timeout=60)
    if save.returncode != 0 or load.returncode != 0:
        detail = (save_err or load.stderr).decode(errors="replace").strip()[:300]
        raise SetupError(f"loading {reference} into {node.name} failed: {detail}",
                         hint="check the main engine has it (`docker image inspect`) and there is disk space; "
                              "then `drill cluster up` again")
    if node_id(node, reference) != image_id:
        raise SetupError(f"{node.name} has {reference} with another ID than the main engine after loading it",
                         hint="run `drill cluster up` again")
    return True


def present(node: NodePlan, references: list[str]) -> list[str]:
    return [ref for ref in references if node_id(node, ref) is not None]
