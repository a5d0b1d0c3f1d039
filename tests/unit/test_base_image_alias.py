"""The local Debian stands in for debian:bookworm-slim only where that name is not here."""

from __future__ import annotations

from typing import Any

import docker.errors

from drills.provision import base_image
from drills.provision.progress import SilentReporter


class _Image:
    def __init__(self, images: _Images, name: str) -> None:
        self._images, self.name = images, name

    def tag(self, repository: str, tag: str) -> None:
        self._images.names.add(f"{repository}:{tag}")


class _Images:
    def __init__(self, names: set[str]) -> None:
        self.names = names

    def get(self, name: str) -> _Image:
        if name not in self.names:
            raise docker.errors.ImageNotFound(name)
        return _Image(self, name)


class _Client:
    def __init__(self, *names: str) -> None:
        self.images = _Images(set(names))


def test_local_base_is_aliased_as_upstream_when_upstream_is_absent() -> None:
    client: Any = _Client(base_image.LOCAL)
    assert base_image.ensure(client, SilentReporter()) == base_image.LOCAL
    assert base_image.UPSTREAM in client.images.names


def test_an_upstream_image_already_here_is_left_alone() -> None:
    client: Any = _Client(base_image.UPSTREAM)
    assert base_image.ensure(client, SilentReporter()) == base_image.UPSTREAM
    assert client.images.names == {base_image.UPSTREAM}


def test_local_is_preferred_where_both_are_here() -> None:
    # The reference images' cache keys name the base: choosing the alias would rebuild them all.
    client: Any = _Client(base_image.LOCAL, base_image.UPSTREAM)
    assert base_image.resolve(client) == base_image.LOCAL
