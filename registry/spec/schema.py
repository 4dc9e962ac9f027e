"""The JSON Schema of solution.yaml v1 and the values it repeats from Python.

solution-v1.schema.json stays a static file, so editors and other tools read it as it is (the
registry serves it at /schema/solution/v1.json). Its enums, the manifest version and the solution-name
rule are written by ``python -m registry.spec.schema`` from the vocabularies, the deployment kinds
and the name rules; tests/spec/test_schema.py fails, naming that command, when the file lags behind.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Final

from registry.spec import vocabulary as vocab
from registry.spec.deploy import DEPLOY_KIND_NAMES
from registry.spec.names import SOLUTION_NAME, SOLUTION_NAME_RULE

SCHEMA_FILE: Final = Path(__file__).with_name("solution-v1.schema.json")
REGENERATE: Final = "python -m registry.spec.schema"

_NAME = ("properties", "name")
_DEPENDENCY_NAME = ("properties", "dependsOn", "properties", "solutions", "items", "properties", "name")
_ENTITY = ("properties", "dataHub", "properties", "entities", "items", "properties")
_DEPLOY = ("properties", "deploy", "properties")

# (where in the schema, keyword, value): every value the schema shares with the Python.
GENERATED: Final[tuple[tuple[tuple[str, ...], str, Any], ...]] = (
    (("properties", "manifestVersion"), "const", vocab.MANIFEST_VERSION),
    (_NAME, "pattern", SOLUTION_NAME.pattern),
    (_NAME, "description", f"Registry name of the solution: {SOLUTION_NAME_RULE}."),
    (_DEPENDENCY_NAME, "pattern", SOLUTION_NAME.pattern),
    (("properties", "categories", "items"), "enum", list(vocab.CATEGORIES)),
    (("properties", "developmentStatus"), "enum", list(vocab.DEVELOPMENT_STATUSES)),
    (("properties", "funding", "properties", "programme"), "enum", list(vocab.PROGRAMMES)),
    (("properties", "maintenance", "properties", "type"), "enum", list(vocab.MAINTENANCE_TYPES)),
    (("properties", "dataHub", "properties", "api"), "enum", list(vocab.DATAHUB_APIS)),
    ((*_ENTITY, "access", "items"), "enum", list(vocab.ACCESS_MODES)),
    ((*_ENTITY, "attributes", "items", "properties", "attributeType"), "enum", list(vocab.ATTRIBUTE_TYPES)),
    ((*_DEPLOY, "targets", "items", "properties", "kind"), "enum", list(DEPLOY_KIND_NAMES)),
    ((*_DEPLOY, "architectures", "items"), "enum", list(vocab.ARCHITECTURES)),
    (("properties", "changes", "propertyNames"), "enum", list(vocab.CHANGE_KINDS)),
)


def read_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def generated_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with every generated value written in; a place that no longer exists is a KeyError."""
    result = copy.deepcopy(schema)
    for pointer, keyword, value in GENERATED:
        node = result
        for step in pointer:
            node = node[step]
        node[keyword] = value
    return result


def schema_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    text = schema_text(generated_schema(read_schema()))
    if SCHEMA_FILE.read_text(encoding="utf-8") == text:
        print(f"{SCHEMA_FILE.name} is up to date")
        return 0
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"{SCHEMA_FILE.name} rewritten from the vocabularies, deployment kinds and name rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
