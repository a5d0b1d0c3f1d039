"""MongoDB's image: the official one, pulled (MongoDB has no Debian package, so Drills cannot build
it). Its adapter, once MongoDB has one, declares it as `pulled=`; until then the registry lists it
apart (`registry.pulled_images`)."""

from __future__ import annotations

from drills.components.base import PulledImage

MONGO_IMAGE = PulledImage(reference="mongo:7", variable="DRILLS_MONGO_IMAGE", profile="mongo", kind="mongo",
                          name="MongoDB")
