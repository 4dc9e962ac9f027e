"""Safe, bounded YAML loading that remembers where every value came from.

PyYAML's SafeLoader is safe against code execution but not against resource
exhaustion: aliases can expand exponentially ("billion laughs") and deep nesting
overflows the recursive composer. So we only use its *compose* step (which keeps
aliases as shared nodes), then build the Python values ourselves with a node
budget, a depth limit and a ``path -> (line, column)`` map for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from registry.spec.problems import Problem, SpecError

Position = tuple[int, int]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class YamlLimits:
    """Resource limits for one YAML input."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    # Nodes visited while building values, counting every alias expansion.
    max_nodes: int = 200_000
    max_documents: int = 1_000


MANIFEST_LIMITS = YamlLimits()


class YamlLoadError(SpecError):
    """The input is not YAML we are willing to read; carries one clear problem."""

    def __init__(
        self,
        code: str,
        message: str,
        hint: str = "",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.message = message
        self.hint = hint
        self.line = line
        self.column = column

    def to_problem(self) -> Problem:
        return Problem("error", self.code, "", self.message, self.hint, self.line, self.column)


@dataclass
class LoadedYaml:
    """A YAML document as plain Python values plus the position of every path."""

    value: Any
    positions: dict[str, Position] = field(default_factory=dict)

    def position(self, path: str) -> Position | None:
        """Position of ``path`` or, when it does not exist, of its nearest parent."""
        while True:
            if path in self.positions:
                return self.positions[path]
            if not path:
                return None
            path = parent_path(path)


def parent_path(path: str) -> str:
    """``a.b[2]`` -> ``a.b`` -> ``a`` -> ``""``."""
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def child_path(parent: str, key: object) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def _mark(node: Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _error_at(code: str, message: str, hint: str, mark: Any) -> YamlLoadError:
    if mark is None:
        return YamlLoadError(code, message, hint)
    return YamlLoadError(code, message, hint, mark.line + 1, mark.column + 1)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader whose composer refuses to nest deeper than ``max_depth``."""

    def __init__(self, text: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self._limits = limits
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        self._depth += 1
        if self._depth > self._limits.max_depth:
            raise _error_at(
                "yaml-too-deep",
                f"The YAML nests deeper than {self._limits.max_depth} levels.",
                "Flatten the structure; no valid document needs this much nesting.",
                self.peek_event().start_mark,
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def decode_yaml_text(data: bytes | str, limits: YamlLimits) -> str:
    """Check size, binary content and encoding; return the text to parse."""
    if isinstance(data, str):
        if len(data) > limits.max_bytes:  # cheap early exit before encoding
            raise _too_large(len(data), limits)
        data = data.encode("utf-8", errors="surrogatepass")
    if len(data) > limits.max_bytes:
        raise _too_large(len(data), limits)
    if b"\x00" in data:
        raise YamlLoadError(
            "yaml-binary",
            "The file is binary data, not YAML text.",
            "Point to the solution.yaml text file (UTF-8).",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        raise YamlLoadError(
            "yaml-not-utf8",
            f"The file is not valid UTF-8 (byte {exc.start}).",
            "Save the file as UTF-8 (EUC-KR/CP949 is not accepted).",
            before.count(b"\n") + 1,
            len(before) - before.rfind(b"\n"),
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _empty()
    return text


def _too_large(size: int, limits: YamlLimits) -> YamlLoadError:
    return YamlLoadError(
        "yaml-too-large",
        f"The file is {size:,} bytes; at most {limits.max_bytes:,} bytes are accepted.",
        "Keep the YAML small; large data belongs in separate files.",
    )


def _empty() -> YamlLoadError:
    return YamlLoadError("yaml-empty", "The file is empty.", "Write the manifest fields into it.")


def _translate(exc: yaml.YAMLError, text: str) -> YamlLoadError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        return YamlLoadError(
            "yaml-binary",
            f"The file contains a control character (U+{exc.character:04X}) that YAML does not allow.",
            "Remove control characters; the file must be plain UTF-8 text.",
            before.count("\n") + 1,
            len(before) - before.rfind("\n"),
        )
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if problem and "expected a single document" in str(context or ""):
        return _error_at(
            "yaml-multiple-documents",
            "The file holds more than one YAML document.",
            "A manifest is one document: remove the extra '---' sections.",
            mark,
        )
    text = f"{context}, {problem}" if context else str(problem)
    return _error_at("yaml-syntax", f"The YAML cannot be parsed: {text}.", "Fix the YAML syntax at this position.", mark)


class _Builder:
    """Turns a composed node tree into Python values within the limits."""

    def __init__(self, loader: _BoundedLoader, limits: YamlLimits) -> None:
        self._loader = loader
        self._limits = limits
        self.visited = 0
        self._active: set[int] = set()  # nodes being built, to catch cycles
        self.positions: dict[str, Position] = {}

    def build(self, node: Node, path: str, position: Position) -> Any:
        self.visited += 1
        if self.visited > self._limits.max_nodes:
            raise _error_at(
                "yaml-alias-budget",
                f"The YAML expands to more than {self._limits.max_nodes:,} values (alias expansion).",
                "Do not use anchors/aliases to repeat large blocks.",
                node.start_mark,
            )
        self.positions.setdefault(path, position)
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if id(node) in self._active:
            raise _error_at(
                "yaml-recursive-alias",
                "An alias refers to the block that contains it.",
                "Remove the recursive alias.",
                node.start_mark,
            )
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                self._require_tag(node, _SEQ_TAG)
                return [self.build(item, child_path(path, i), _mark(item)) for i, item in enumerate(node.value)]
            self._require_tag(node, _MAP_TAG)
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: ScalarNode) -> Any:
        try:
            return self._loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            raise _unsupported_tag(node, exc) from None
        except ValueError as exc:  # e.g. an impossible date like 2023-02-30
            raise _error_at("yaml-syntax", f"Invalid value {node.value!r}: {exc}.", "Fix the value.", node.start_mark) from None

    def _require_tag(self, node: Node, tag: str) -> None:
        if node.tag != tag:
            raise _unsupported_tag(node, None)

    def _mapping(self, node: MappingNode, path: str) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        explicit: set[Any] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self._merge(result, explicit, value_node, path)
                continue
            if not isinstance(key_node, ScalarNode):
                raise _error_at(
                    "yaml-syntax",
                    "A mapping key is itself a list or mapping.",
                    "Use plain text keys.",
                    key_node.start_mark,
                )
            key = self._scalar(key_node)
            if key in explicit:
                raise _error_at(
                    "yaml-duplicate-key",
                    f"The key {key!r} appears twice in the same mapping.",
                    "Remove one of them; YAML would silently keep only the last.",
                    key_node.start_mark,
                )
            explicit.add(key)
            result[key] = self.build(value_node, child_path(path, str(key)), _mark(key_node))
        return result

    def _merge(self, result: dict[Any, Any], explicit: set[Any], value_node: Node, path: str) -> None:
        """YAML merge key ``<<``: explicit keys win over merged ones."""
        sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
        for source in sources:
            merged = self.build(source, path, _mark(source))
            if not isinstance(merged, dict):
                raise _error_at("yaml-syntax", "A merge key '<<' must refer to a mapping.", "", source.start_mark)
            for key, value in merged.items():
                if key not in explicit and key not in result:
                    result[key] = value


def _unsupported_tag(node: Node, exc: Exception | None) -> YamlLoadError:
    return _error_at(
        "yaml-unsupported-tag",
        f"The YAML tag {node.tag!r} is not supported.",
        "Use plain YAML values (text, numbers, booleans, dates, lists, mappings) without '!' tags.",
        node.start_mark,
    )


def _is_empty_document(node: Node) -> bool:
    """``---`` followed by nothing (common in Kubernetes files) composes to a null scalar."""
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null" and node.value in ("", "~")


def _load_nodes(text: str, limits: YamlLimits, single: bool) -> list[tuple[_BoundedLoader, Node]]:
    try:
        loader = _BoundedLoader(text, limits)
    except yaml.YAMLError as exc:
        raise _translate(exc, text) from None
    try:
        if single:
            node = loader.get_single_node()
            return [] if node is None else [(loader, node)]
        nodes: list[tuple[_BoundedLoader, Node]] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None and not _is_empty_document(node):
                nodes.append((loader, node))
            if len(nodes) > limits.max_documents:
                raise YamlLoadError(
                    "yaml-too-many-documents",
                    f"The file holds more than {limits.max_documents} YAML documents.",
                    "Split the file.",
                )
        return nodes
    except yaml.YAMLError as exc:
        raise _translate(exc, text) from None
    except RecursionError:  # belt and braces: the depth limit should fire first
        raise YamlLoadError("yaml-too-deep", "The YAML nests too deeply.", "Flatten the structure.") from None
    finally:
        loader.dispose()


def _build(loader: _BoundedLoader, node: Node, limits: YamlLimits) -> tuple[LoadedYaml, int]:
    """Build one document; also return how many nodes it cost."""
    builder = _Builder(loader, limits)
    try:
        value = builder.build(node, "", _mark(node))
    except RecursionError:
        raise YamlLoadError("yaml-too-deep", "The YAML nests too deeply.", "Flatten the structure.") from None
    return LoadedYaml(value, builder.positions), builder.visited


def load_yaml_mapping(data: bytes | str, limits: YamlLimits = MANIFEST_LIMITS, *, what: str = "manifest") -> LoadedYaml:
    """Load exactly one YAML document whose top level is a mapping.

    Raises :class:`YamlLoadError` (one clear problem) for anything else.
    """
    text = decode_yaml_text(data, limits)
    nodes = _load_nodes(text, limits, single=True)
    if not nodes:
        raise YamlLoadError("yaml-empty", "The file holds no YAML content (only comments).", "Write the fields into it.")
    loader, node = nodes[0]
    if not isinstance(node, MappingNode):
        kind = "a list" if isinstance(node, SequenceNode) else "a single value"
        raise _error_at(
            "manifest-not-mapping",
            f"The {what} must be a YAML mapping (key: value lines), but it is {kind}.",
            "Start the file with top-level keys such as 'manifestVersion: \"1\"'.",
            node.start_mark,
        )
    return _build(loader, node, limits)[0]


def load_yaml_documents(data: bytes | str, limits: YamlLimits = MANIFEST_LIMITS) -> list[LoadedYaml]:
    """Load every non-empty document of a multi-document YAML stream (e.g. Kubernetes).

    The node budget applies to the whole stream, not to each document.
    """
    text = decode_yaml_text(data, limits)
    documents: list[LoadedYaml] = []
    budget = limits.max_nodes
    for loader, node in _load_nodes(text, limits, single=False):
        loaded, cost = _build(loader, node, replace(limits, max_nodes=budget))
        budget -= cost
        documents.append(loaded)
    return documents
