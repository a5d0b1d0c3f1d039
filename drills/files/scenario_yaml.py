"""Reading a scenario file's YAML within bounds, every failure located (line, column, and the field
where there is one).

ruamel's round-trip loader keeps the line and column of every key and value (what
`drills.files.scenario` points at), but on hostile or broken input it can take minutes and gigabytes
(an alias bomb: a dozen lines that expand to a billion values), recurse past Python's stack (a
thousand nested brackets), or raise plain Python errors from its value constructors
(`2024-13-01` read as a date, `!!bool maybe`, a 5000-digit integer) and its parser (`%YAML 1.3`).
Here each of these ends in one `YamlProblem`, within bounds that no scenario comes near (the
largest in scenarios/ is about 4 KB, nests 5 deep and holds about 120 values):

    MAX_BYTES    file size, checked before parsing (pure-Python YAML reads ~100 KB/s on a busy
                 2-core machine: the bound keeps every file within a few seconds)
    MAX_DEPTH    nesting, checked while parsing (before anything recurses) and again with aliases
    MAX_VALUES   values, checked while parsing (ruamel spends about 250 Python calls on each) and
                 again once aliases (and merge keys `<<: *x`) are expanded, on the node graph
                 before any value is built (the graph itself is as small as the file)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.parser import RoundTripParser
from ruamel.yaml.scanner import RoundTripScanner
from ruamel.yaml.tokens import (
    AnchorToken,
    BlockEndToken,
    BlockMappingStartToken,
    BlockSequenceStartToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    KeyToken,
    ScalarToken,
    TagToken,
)

from drills.core.yaml_locate import Loc, Problem, field_path
from drills.spec.types import shorten

MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
MAX_VALUES = 5_000
# Integers at or past 2**1023 do not fit a float; no field takes one, and Python cannot even print
# one past 4300 digits: refused where they are read, so nothing downstream has to guard.
_MAX_INT_BITS = 1023
UNFORESEEN = "the YAML reader failed here on input it did not foresee"


class YamlProblem(Exception):
    """Why a file could not be read as YAML: 1-based line and column, the field's path (empty when
    the problem is not inside a value, e.g. a syntax error), and a message for the user."""

    def __init__(self, line: int, column: int, message: str, loc: Loc = ()) -> None:
        super().__init__(message)
        self.line, self.column, self.message, self.loc = line, column, message, loc


def top_level_keys(path: Path) -> set[str]:
    """The keys of a YAML file's top-level mapping, read within its first MAX_BYTES by YAML's scanner
    alone (no values built): enough to tell a scenario from an exploration (`fault_space:`) or a stack
    file (`stack:` and `compose:`) before reading it in full, whether its keys are plain, quoted
    (`"fault_space":`) or in flow style (`{fault_space: ...}`, JSON). A file the scanner stops on
    also has the keys of its lines that look like `key:` (reading it in full reports the problem);
    an unreadable file has none."""
    try:
        with path.open("rb") as f:
            text = f.read(MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return set()
    keys, complete = _scanned_keys(text)
    if complete:
        return keys
    return keys | {line.split(":", 1)[0].strip() for line in text.splitlines()
                   if line and not line[0].isspace() and ":" in line}


_OPEN = (BlockMappingStartToken, BlockSequenceStartToken, FlowMappingStartToken, FlowSequenceStartToken)
_CLOSE = (BlockEndToken, FlowMappingEndToken, FlowSequenceEndToken)


def _scanned_keys(text: str) -> tuple[set[str], bool]:
    """The scalar keys of the first document's top-level mapping as YAML's tokens have them, and
    whether the scanner read that mapping to its end."""
    yaml = YAML(typ="rt")
    yaml.Scanner = _Scanner  # its bound on nesting: a line of 1,000 `[` costs it seconds otherwise
    keys: set[str] = set()
    open_: list[Any] = []  # the collections the scanner is in, outermost first
    key_next = False
    try:
        for token in yaml.scan(text):
            if isinstance(token, _OPEN):
                open_.append(token)
            elif isinstance(token, _CLOSE):
                if len(open_) <= 1:
                    return keys, True  # the top-level collection ends: any later document is not read
                open_.pop()
            elif key_next and isinstance(token, ScalarToken):
                keys.add(str(token.value))
            if not isinstance(token, TagToken | AnchorToken):  # `!!str key:` is still the key
                top = len(open_) == 1 and isinstance(open_[0], BlockMappingStartToken | FlowMappingStartToken)
                key_next = top and isinstance(token, KeyToken)
    except Exception:  # any problem here is reported when the file is read in full
        return keys, False
    return keys, True


def json_schema_of(model: Any, title: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a file's pydantic model, as `drill schema` prints it."""
    schema: dict[str, Any] = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = title
    return schema


def load_mapping(path: Path, kind: str, keys: str) -> tuple[Any, list[Problem]]:
    """The file's YAML mapping (round-trip data, see `load_yaml`), or why not, as a located problem:
    what every file of Drills (scenario, exploration, stack) is read with. `kind` and `keys` say what
    file it should have been ("a stack file", "stack, compose, roles, ...")."""
    try:
        root = load_yaml(path)
    except YamlProblem as exc:
        return None, [Problem(str(path), exc.line, exc.column, field_path(exc.loc), exc.message)]
    if not isinstance(root, dict):
        return None, [Problem(str(path), 1, 1, "", f"{kind} must be a YAML mapping ({keys})")]
    return root, []


def load_yaml(path: Path) -> Any:
    """The file's single YAML document as ruamel round-trip data (line and column on every key and
    value), or YamlProblem."""
    text = _read(path)
    yaml = YAML(typ="rt")
    yaml.Scanner, yaml.Parser, yaml.Constructor = _Scanner, _Parser, _Constructor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReusedAnchorWarning)  # a reused anchor name is valid YAML
        try:
            return yaml.load(text)
        except _Refused as exc:
            raise YamlProblem(*_one_based(exc.problem_mark), str(exc.problem), exc.loc) from None
        except MarkedYAMLError as exc:
            raise _syntax_problem(exc, getattr(yaml.scanner, "unclosed", [])) from None
        except YAMLError as exc:  # e.g. a character YAML does not allow: ruamel gives its offset in the text
            offset = getattr(exc, "position", None)
            line, col = _line_col(text, offset) if isinstance(offset, int) else (1, 1)
            first = str(exc).strip().splitlines()
            raise YamlProblem(line, col, f"YAML: {first[0] if first else type(exc).__name__}") from None
        except Exception as exc:  # ruamel's own assertions and lookups on input it did not foresee
            # Fail closed, at the last token read: the file is not readable as a scenario. The fuzz
            # test treats this message as a bug to fix here, so it stays a last resort.
            line, col = _one_based(getattr(yaml.scanner, "last_mark", None))
            raise YamlProblem(line, col, f"YAML: {UNFORESEEN} ({type(exc).__name__}: "
                                         f"{shorten(str(exc), 120)})") from None


def _read(path: Path) -> str:
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # never more: a 5 GB file (or /dev/zero) costs nothing
    except OSError as exc:
        raise YamlProblem(1, 1, f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise YamlProblem(1, 1, f"larger than {MAX_BYTES // 1024} KiB, the most a scenario file may be (a scenario is "
                                f"a few KB): is this the right file?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(line, col, f"not UTF-8 text (byte {exc.start}): is this a scenario file?") from None


def _line_col(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _one_based(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


# What the parser was reading when it failed, for the constructs that open with a delimiter and
# run until they are closed: an unclosed one is noticed lines later, at whatever follows, so it is
# shown where it opens (where the missing `]`, `}` or quote belongs), naming where it was noticed.
_OPENED = {
    "while parsing a flow sequence": "a list opened here with '[' is not closed (or holds a mistake)",
    "while parsing a flow mapping": "a mapping opened here with '{' is not closed (or holds a mistake)",
    "while scanning a quoted scalar": "a quoted text opened here is not closed",
    "while scanning a simple key": "this key has no ':' after it",
}


def _syntax_problem(exc: MarkedYAMLError, unclosed: list[tuple[Any, str]]) -> YamlProblem:
    """Where the parser noticed the problem, and where the construct it was reading began: an
    unclosed bracket or quote is shown where it opens, with where it was noticed. `unclosed`: the
    brackets the scanner had not seen closed (where each opens, and which), innermost last."""
    mark = exc.problem_mark or exc.context_mark
    line, col = _one_based(mark)
    problem, context = exc.problem, exc.context
    if problem and "<stream end>" in str(problem) and unclosed and str(context or "").strip() not in _OPENED:
        # `from: [` and nothing after: the parser names no construct, only the end of the file
        (oline, ocol), bracket = _one_based(unclosed[-1][0]), unclosed[-1][1]
        what = _OPENED["while parsing a flow sequence" if bracket == "[" else "while parsing a flow mapping"]
        return YamlProblem(oline, ocol, f"YAML syntax: {what}: {problem} at line {line}, column {col}")
    if problem and context and exc.context_mark is not None and exc.problem_mark is not None \
            and (exc.context_mark.line, exc.context_mark.column) != (exc.problem_mark.line, exc.problem_mark.column):
        cline, ccol = _one_based(exc.context_mark)
        opened = _OPENED.get(str(context).strip())
        if opened is not None:
            return YamlProblem(cline, ccol, f"YAML syntax: {opened}: {problem} at line {line}, column {col}")
        what = f"{problem} ({context} that starts at line {cline}, column {ccol})"
    else:
        what = " ".join(str(p) for p in (context, problem) if p)
    return YamlProblem(line, col, f"YAML syntax: {what or 'invalid'}")


class _Refused(MarkedYAMLError):
    """A bound of this module, or a value ruamel could not build: located, with the field's path."""

    def __init__(self, message: str, mark: Any, loc: Loc = ()) -> None:
        super().__init__(problem=message, problem_mark=mark)
        self.loc = loc


class _Scanner(RoundTripScanner):
    """Remembers where the last token began: where a parser failure that carries no mark is shown."""

    last_mark: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each `[` or `{` not closed yet, where it opens, innermost last: kept when the loader resets
        # the scanner after a failure, to show an unclosed one where it opens.
        self.unclosed: list[tuple[Any, str]] = []

    def get_token(self) -> Any:
        token = super().get_token()
        if token is not None:
            self.last_mark = token.start_mark
        return token

    def scan_yaml_directive_value(self, start_mark: Any) -> Any:
        # Checked where it is scanned: ruamel's resolver reads the version as soon as it is scanned
        # (KeyError on 1.3), and its parser asserts on it.
        try:
            version = super().scan_yaml_directive_value(start_mark)
        except ValueError:  # a version number past Python's 4300 digits
            version = None
        if version not in ((1, 1), (1, 2)):
            shown = shorten(".".join(map(str, version))) if version else "version"
            raise _Refused(f"unsupported %YAML {shown}: scenario files are YAML 1.2 (1.1 is read too); drop the "
                           f"%YAML line", start_mark)
        return version

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # ruamel's signature
        # Refused here, not only in the parser: the scanner looks up to 1024 characters ahead for
        # each open `[`/`{` (each may start a key), so a line of 1000 brackets costs it seconds.
        if self.flow_level >= MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (a scenario nests about 5)",
                           self.reader.get_mark())
        self.unclosed.append((self.reader.get_mark(), to_push))
        super().fetch_flow_collection_start(TokenClass, to_push)

    def fetch_flow_collection_end(self, TokenClass: Any) -> None:  # ruamel's signature
        if self.unclosed:
            self.unclosed.pop()
        super().fetch_flow_collection_end(TokenClass)


class _Parser(RoundTripParser):
    """Counts values and nesting as the events stream by, so the composer (which recurses per
    level) never goes deeper than MAX_DEPTH, and a file of many small values stops being read at
    MAX_VALUES."""

    _depth = 0
    _values = 0

    def get_event(self) -> Any:
        event = super().get_event()
        if isinstance(event, NodeEvent):  # a scalar, an alias, or the start of a mapping or list
            self._values += 1
            if self._values > MAX_VALUES:  # 64 KB of `x: 1` lines costs seconds: stop reading at the bound
                raise _Refused(f"holds more than {MAX_VALUES:,} values (a scenario has about a hundred): is this the "
                               f"right file?", event.start_mark)
        if isinstance(event, MappingStartEvent | SequenceStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep (a scenario nests about 5)",
                               event.start_mark)
        elif isinstance(event, MappingEndEvent | SequenceEndEvent):
            self._depth -= 1
        return event



class _Constructor(RoundTripConstructor):
    """Checks the node graph against the bounds before building anything, then builds each value
    with its location at hand for the errors ruamel raises without one."""

    _paths: dict[int, Loc]

    def construct_document(self, node: Any) -> Any:
        self._paths = _check_graph(node)
        return super().construct_document(node)

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            data = super().construct_object(node, deep=deep)
        except YAMLError:
            raise
        except Exception as exc:  # ruamel's value constructors raise ValueError, KeyError...
            raise _Refused(_unreadable(node, exc), node.start_mark, self._paths.get(id(node), ())) from None
        if isinstance(data, int) and not isinstance(data, bool) and data.bit_length() > _MAX_INT_BITS:
            raise _Refused(_too_large(node), node.start_mark, self._paths.get(id(node), ()))
        return data

    def construct_non_recursive_object(self, node: Any, tag: Any = None) -> Any:
        # A mapping or list is built in two steps: the rest runs later, from construct_document,
        # outside construct_object's guard: it gets one of its own.
        before = len(self.state_generators)
        data = super().construct_non_recursive_object(node, tag)
        if len(self.state_generators) > before:
            self.state_generators[-1] = self._guarded(self.state_generators[-1], node)
        return data

    def _guarded(self, steps: Iterator[Any], node: Node) -> Iterator[Any]:
        try:
            yield from steps
        except YAMLError:
            raise
        except Exception as exc:  # e.g. a merge key (`<<:`) over a set
            raise _Refused(_unreadable(node, exc), node.start_mark, self._paths.get(id(node), ())) from None


def _too_large(node: Node) -> str:
    return f"number too large ({len(str(node.value)):,} characters); no field takes a number this size"


def _unreadable(node: Node, exc: Exception) -> str:
    kind = str(node.tag).rpartition(":")[2] or str(node.tag)
    if kind == "int" and isinstance(exc, ValueError):  # past Python's 4300 digits
        return _too_large(node)
    if not isinstance(node, ScalarNode):
        return f"cannot read this {kind} ({type(exc).__name__}: {shorten(str(exc), 120)})"
    why = "" if isinstance(exc, KeyError) else f": {shorten(str(exc), 120)}"  # KeyError('maybe') says nothing
    hint = " (quote it to keep it text)" if kind == "timestamp" else ""  # `2024-13-01` was meant as a date?
    return f"cannot read {shorten(str(node.value))!r} as {kind}{why}{hint}"


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _child_locs(node: Node, loc: Loc) -> list[tuple[Node, Loc]]:
    if isinstance(node, SequenceNode):
        return [(child, (*loc, i)) for i, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        out: list[tuple[Node, Loc]] = []
        for key, value in node.value:
            name = key.value if isinstance(key.value, str) else "?"
            out += [(key, (*loc, name)), (value, (*loc, name))]
        return out
    return []


def _check_graph(root: Node) -> dict[int, Loc]:
    """The path of every node (for located errors), after checking that the document, with its
    aliases expanded, stays within MAX_VALUES values and MAX_DEPTH levels and has no cycle (`&a [*a]`
    is valid YAML: a list that contains itself).

    One pass, iterative and memoized per node, so it costs the size of the file, not of the
    expansion: a shared node's expanded size and depth are computed once."""
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    paths: dict[int, Loc] = {}
    open_: set[int] = set()
    stack: list[tuple[Node, Loc, bool]] = [(root, (), False)]
    while stack:
        node, loc, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            # Post-order: the first node over a bound is the deepest one, where the aliases multiply.
            if size[key] > MAX_VALUES:
                raise _Refused(f"holds more than {MAX_VALUES:,} values once its aliases are expanded (a scenario "
                               f"has about a hundred): an alias bomb?", node.start_mark, loc)
            if height[key] > MAX_DEPTH:
                raise _Refused(f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded (a "
                               f"scenario nests about 5)", node.start_mark, loc)
            continue
        if key in size:
            continue
        if key in open_:  # reached again from inside itself
            raise _Refused("an alias refers to a value that contains it (a cycle): it would never end",
                           node.start_mark, paths.get(key, loc))
        open_.add(key)
        paths.setdefault(key, loc)
        stack.append((node, loc, True))
        stack.extend((child, child_loc, False) for child, child_loc in reversed(_child_locs(node, loc)))
    return paths
