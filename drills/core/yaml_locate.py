"""Where in a YAML file a problem is: from pydantic's error paths to line:col, with "did you mean".

Generic: it knows pydantic models and ruamel's round-trip YAML tree, nothing of scenarios.
`drills.files.scenario` binds it to the `Scenario` model and words the messages.

    walk(Scenario, ("steps", 0, "kill", "hold"), ("fault",))  -> (("steps", 0, "hold"), float)
    locate(root, ("steps", 0, "hold"))                         -> (line, col) of the value, 0-based
    Problem("s.yaml", 12, 11, "steps[0].hold", "...")          -> s.yaml:12:11: steps[0].hold: ...
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

Loc = tuple[int | str, ...]


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    field: str  # the path in the file: steps[0].hold ("" for the file as a whole)
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def problem_at(path: str, root: Any, loc: Loc, message: str, *, at_key: bool = False) -> Problem:
    """A problem shown where `loc` is written in the YAML tree `root` (see `locate`)."""
    line, col = locate(root, loc, at_key=at_key)
    return Problem(path, line + 1, col + 1, field_path(loc), message)


# ---- from pydantic's error locations to the model's types ----------------------------------------


def _unwrap(tp: Any) -> Any:
    """Strip Annotated[...] and `| None`."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif is_union(tp):
            rest = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(rest) != 1:
                return tp
            tp = rest[0]
        else:
            return tp


def is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _variant(tp: Any, tag: object, discriminators: Sequence[str]) -> type[BaseModel] | None:
    """The member of a tagged union whose discriminator field (one of `discriminators`) is `tag`."""
    for member in map(_unwrap, typing.get_args(tp)):
        if isinstance(member, type) and issubclass(member, BaseModel):
            for name in discriminators:
                info = member.model_fields.get(name)
                if info is not None and tag in typing.get_args(info.annotation):
                    return member
    return None


def _child(tp: Any, part: int | str) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
        for name, info in tp.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (tuple, list) and isinstance(part, int) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def walk(root_model: type[BaseModel], loc: Loc, discriminators: Sequence[str]) -> tuple[Loc, Any]:
    """pydantic's loc -> (the path as the file spells it, the type found there).

    pydantic puts a tagged union's tag (`kill`, `availability`) and `[key]` (an invalid dict key)
    into loc; neither is a key of the file."""
    tp: Any = root_model
    clean: list[int | str] = []
    for part in loc:
        tp = _unwrap(tp)
        if part == "[key]":
            continue
        if is_union(tp):
            variant = _variant(tp, part, discriminators)
            if variant is not None:
                tp = variant
                continue
        clean.append(part)
        tp = _child(tp, part)
    return tuple(clean), _unwrap(tp)


def field_names(tp: Any) -> list[str]:
    """The keys a model accepts, as the file spells them (aliases); [] for anything else."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return sorted(info.alias or name for name, info in tp.model_fields.items())
    return []


def field_path(loc: Loc) -> str:
    """`steps[0].hold` for ("steps", 0, "hold")."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def suggest(word: str, choices: Iterable[str]) -> str:
    """`; did you mean 'hold'?` for the closest of `choices`, or "" when none is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# ---- from a path to a position in the YAML tree ---------------------------------------------------


def locate(root: Any, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
    """(line, col), 0-based, of the deepest node of `loc` that exists in the YAML tree: a scalar
    where its value stands; a mapping or list (or, with `at_key`, anything) at its key."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    node = root
    pos = (0, 0)
    for i, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            value = node[part]
            container = isinstance(value, CommentedMap | CommentedSeq)
            last_key = at_key and i == len(loc) - 1
            pos = _key_position(node, part, of_value=not (container or last_key)) or pos
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            found = (node.lc.data or {}).get(part)
            pos = (found[0], found[1]) if found else pos
            node = node[part]
        else:
            break
    return pos


def _key_position(node: Any, key: int | str, *, of_value: bool) -> tuple[int, int] | None:
    """Where a key of a mapping (or its value) is written; a key that came in through a merge key
    (`<<: *step`) is written in the merged mapping, so that is where it is shown."""
    found = (node.lc.data or {}).get(key)
    if found is not None:
        return (found[2], found[3]) if of_value else (found[0], found[1])
    for entry in getattr(node, "merge", ()):
        merged = entry[1] if isinstance(entry, tuple) else entry  # older ruamel: (position, mapping)
        if isinstance(merged, dict) and key in merged:
            return _key_position(merged, key, of_value=of_value)
    return None


def to_plain(node: Any) -> Any:
    """ruamel's round-trip types -> plain dicts, lists, str, int, float, bool (pydantic's input)."""
    if isinstance(node, dict):
        return {(k if isinstance(k, str | int) else str(k)): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node


def plain_message(err: Any, shown: Any = repr, *, pattern: str | None = None) -> str:
    """pydantic's message of one error in the words of a YAML file: "must be ...", the offending
    value after it (through `shown`, which cuts long values short), `pattern` for a string that
    does not match its field's pattern (what the field wants, in words)."""
    kind: str = err["type"]
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if kind == "literal_error":
        msg = msg.replace("Input should be", "must be one of")
    elif kind == "string_pattern_mismatch" and pattern is not None:
        msg = pattern
    elif kind in ("model_type", "dict_type"):
        msg = "must be a mapping (key: value lines)"
    elif kind in ("tuple_type", "list_type"):
        msg = "must be a list (- item lines, or [a, b])"
    else:
        msg = msg.replace("Input should be", "must be").split(", unable to parse")[0]
    got = err.get("input")
    if isinstance(got, str | int | float) and not isinstance(got, bool) and shown(got) not in msg:
        msg += f" (got {shown(got)})"
    return msg
