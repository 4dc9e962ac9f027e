"""One exception tree per side: every exception class the server defines is a RegistryError (in
registry/spec a SpecError, which is one), every one the CLI defines a SolregError, and no name
means two things."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections import defaultdict

import publisher_cli
import registry
from publisher_cli.errors import SolregError
from registry.errors import RegistryError
from registry.spec.problems import SpecError

# Internal failures that never reach a user: each is caught by every caller.
OUTSIDE_THE_TREE = {
    # parse_version's refusal; compare_versions and the OSV range matching catch it and skip that range.
    "registry.sbom.ecosystems.UnorderedVersion",
}


def _exception_classes(package) -> dict[str, type[BaseException]]:
    """Every exception class defined (not only imported) in a module of `package`, by qualified name."""
    found = {}
    for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".migrations" in module_info.name or module_info.name.endswith("__main__"):
            continue  # Alembic scripts define none; __main__ would run the command line
        module = importlib.import_module(module_info.name)
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def test_every_server_error_is_a_registry_error_and_every_spec_error_a_spec_error():
    classes = _exception_classes(registry)
    assert "registry.storage.base.StorageError" in classes and "registry.spec.note.NoteError" in classes
    outside = sorted(name for name, cls in classes.items()
                     if not issubclass(cls, SpecError if name.startswith("registry.spec.") else RegistryError))
    assert outside == sorted(OUTSIDE_THE_TREE)


def test_every_cli_error_is_a_solreg_error():
    classes = _exception_classes(publisher_cli)
    assert "publisher_cli.errors.RegistryAnswerError" in classes
    assert sorted(name for name, cls in classes.items() if not issubclass(cls, SolregError)) == []


def test_no_exception_name_means_two_things():
    where = defaultdict(list)
    for name, cls in (_exception_classes(registry) | _exception_classes(publisher_cli)).items():
        where[cls.__name__].append(name)
    assert {short: names for short, names in where.items() if len(names) > 1} == {}


def test_every_server_error_has_a_status_and_a_code():
    for name, cls in _exception_classes(registry).items():
        if name not in OUTSIDE_THE_TREE:
            assert 400 <= cls.status <= 599 and cls.code and cls.code == cls.code.lower(), name
