"""The registry's side of the shared package inspection (registry/spec/package.py).

It adds only what is the server's: the limits and entity catalogue its operator set. A refusal
(PackageRefused, a RegistryError) is answered 422 with the inspection's code, detail and field.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import BinaryIO

from flask import current_app

from registry.spec.catalogue import EntityCatalogue
from registry.spec.limits import Limits
from registry.spec.package import InspectedPackage, inspect_package

__all__ = ["InspectedPackage", "inspect_archive", "server_catalogue", "server_limits"]


def server_catalogue() -> EntityCatalogue:
    """The entity-type catalogue, extended by the operator's REGISTRY_ENTITY_CATALOGUE_EXTRA files."""
    extra = tuple(p for p in str(current_app.config["ENTITY_CATALOGUE_EXTRA"]).split(os.pathsep) if p)
    return _catalogue(extra)


@lru_cache(maxsize=4)
def _catalogue(extra: tuple[str, ...]) -> EntityCatalogue:
    from registry.spec.catalogue import default_catalogue

    return EntityCatalogue.load(extra) if extra else default_catalogue()


def server_limits() -> Limits:
    return Limits.from_settings(current_app.config)


def inspect_archive(stream: BinaryIO) -> InspectedPackage:
    """Refuse unsafe or invalid packages (PackageRefused, 422) with the reason; return what was read."""
    return inspect_package(stream, server_limits(), catalogue=server_catalogue())
