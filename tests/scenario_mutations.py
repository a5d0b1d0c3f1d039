"""Malformed scenario files, made by mutating the project's own scenarios/*.yaml.

Shared by the Hypothesis fuzz test of the validator (tests/unit/test_scenario_fuzz.py, which hands
in a Random that Hypothesis controls) and the fuzz campaign (bench/validate_fuzz.py, seeded).
Each mutation is one of the ways real and hostile files go wrong: a byte flipped, a field written
in the wrong section, a merge key over a bad value, a tag, a huge integer, deep nesting, an alias
bomb, Unicode digits, a file far too large.
"""

from __future__ import annotations

import io
import random
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[1]
SEEDS: dict[str, str] = {p.name: p.read_text() for p in sorted((ROOT / "scenarios").glob("*.yaml"))}

_KEY_LINE = re.compile(r"^(?P<indent>\s*(?:- )?)(?P<key>[A-Za-z_.][\w.-]*):(?P<rest>.*)$")

# Values that once escaped the validator or come close: each replaces a value of a key.
VALUES = [
    "1" + "0" * 400, "7" * 5000, "0x" + "f" * 3000, "-" + "9" * 320, "1e999", "-1e999", ".nan", ".inf", "-.inf",
    "2024-13-01", "2024-02-30", "2001-12-14t21:59:43.10-05:00", "12:30:45", "0o777", "0b101", "1_000",
    "!!bool maybe", "!!int x", "!!int 5s", "!!float y", "!!timestamp z", "!!binary ***", "!!binary aGVsbG8=",
    "!!set {a, b}", "!!omap [a: 1, b: 2]", "!!pairs [a: 1]", "!!str 5", "!!null x", "!!merge x", "!custom v",
    "!!python/object/apply:os.system [ls]", "!<tag:yaml.org,2002:int> 12x",
    '"\u0665s"', '"\u0661\u0662s"', '"\uff15s"', '"1\u00a0s"', '"1 \u2003 s"',
    "true", "false", "yes", "on", "null", "~", "", "''",
    "-1", "0", "5x", "'1" + " " * 5000 + "x'", "'" + " " * 3000 + "'", "'1.'", "1.5.5s", "10 s", "10S", "10sec",
    "[" * 40 + "]" * 40, "{a: {b: {c: []}}}", "[]", "{}", "[a, [b, [c]]]", "*undefined", "&a v",
    "|\n  text", ">-\n  text", "'unterminated", '"bad \\q escape"', '"\\x00"', "@x", "`x", "[a, b", "{a: b",
    "%x", "? a", ": b", "- x", "a: b: c", "x" * 70_000,
]
# Fields of every section, to write into sections that do not have them.
FIELDS = ["hold", "heal", "target", "fault", "checker", "signal", "why", "max_lost", "max_outage", "rate",
          "clients", "delay", "percent", "from", "timeout", "component", "method", "interval", "max_rpo",
          "conditions", "steps", "expectations", "workload", "id", "<<"]
PREFIXES = ["%YAML 1.3\n---\n", "%YAML 1.1\n---\n", "%YAML 2.0\n---\n", "%TAG !e! tag:e.com,2000:\n---\n",
            "%FOO bar\n---\n", "---\n", "\ufeff", "--- !!map\n", "--- |\n", "...\n", "# c\n"]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _key_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if _KEY_LINE.match(line)]


def replace_value(text: str, rnd: random.Random) -> str:
    lines = _lines(text)
    found = _key_lines(lines)
    if not found:
        return text
    i = rnd.choice(found)
    m = _KEY_LINE.match(lines[i])
    assert m is not None
    lines[i] = f"{m['indent']}{m['key']}: {rnd.choice(VALUES)}"
    return "\n".join(lines)


def move_line(text: str, rnd: random.Random, *, keep: bool = False) -> str:
    """A `key: value` line taken to another place, indented as the line it lands before: a field of
    one section written in another."""
    lines = _lines(text)
    found = _key_lines(lines)
    if len(lines) < 2 or not found:
        return text
    i = rnd.choice(found)
    m = _KEY_LINE.match(lines[i])
    assert m is not None
    line = f"{m['key']}:{m['rest']}"
    if not keep:
        del lines[i]
    j = rnd.randrange(len(lines))
    target = lines[j]
    indent = len(target) - len(target.lstrip(" "))
    if target.lstrip().startswith("- "):
        indent += 2
    lines.insert(j + rnd.choice([0, 1]), " " * indent + line)
    return "\n".join(lines)


def add_field(text: str, rnd: random.Random) -> str:
    lines = _lines(text)
    j = rnd.randrange(len(lines))
    target = lines[j]
    indent = len(target) - len(target.lstrip(" ")) + (2 if target.lstrip().startswith("- ") else 0)
    lines.insert(j + 1, " " * indent + f"{rnd.choice(FIELDS)}: {rnd.choice([*VALUES, '5s', '1', 'x', 'w'])}")
    return "\n".join(lines)


def merge_key(text: str, rnd: random.Random) -> str:
    """Anchor a list item and merge it into a new item (`- <<: *m`), maybe over a bad value."""
    lines = _lines(text)
    items = [i for i, line in enumerate(lines) if re.match(r"^\s*- \S", line)]
    if not items:
        return text
    i = rnd.choice(items)
    dash = lines[i].index("- ")
    inner = " " * (dash + 2)
    lines[i: i + 1] = [lines[i][: dash + 2] + "&m", inner + lines[i][dash + 2:]]
    extra = [f"{' ' * dash}- <<: *m"]
    for _ in range(rnd.randrange(3)):
        extra.append(f"{inner}{rnd.choice(FIELDS)}: {rnd.choice([*VALUES, '5x', 'pg2', '1'])}")
    # after the anchored item (an alias before its anchor is an error of its own: also worth a try)
    j = rnd.randrange(i + 2, len(lines) + 1) if rnd.random() < 0.9 else rnd.randrange(len(lines) + 1)
    lines[j:j] = extra
    return "\n".join(lines)


def tag(text: str, rnd: random.Random) -> str:
    lines = _lines(text)
    found = _key_lines(lines)
    if not found:
        return text
    i = rnd.choice(found)
    m = _KEY_LINE.match(lines[i])
    assert m is not None
    the_tag = rnd.choice(["!!int", "!!bool", "!!float", "!!timestamp", "!!binary", "!!set", "!!omap", "!!seq",
                          "!!map", "!!str", "!!null", "!x", "!", "!!python/name:os.system", "!e!x"])
    lines[i] = f"{m['indent']}{m['key']}: {the_tag}{m['rest']}"
    return "\n".join(lines)


def unicode_digits(text: str, rnd: random.Random) -> str:
    # Arabic-Indic, fullwidth, Devanagari, mathematical bold: all `\d` to Python's re
    zero = rnd.choice([0x0660, 0xFF10, 0x0966, 0x1D7CE])
    digits = "".join(chr(zero + k) for k in range(10))
    spots = [m.start() for m in re.finditer(r"[0-9]", text)]
    if not spots:
        return text
    out = list(text)
    for k in rnd.sample(spots, min(len(spots), rnd.randint(1, 4))):
        out[k] = digits[int(out[k])]
    return "".join(out)


def huge_int(text: str, rnd: random.Random) -> str:
    spots = [m.start() for m in re.finditer(r"(?<=: )[0-9]", text)]
    if not spots:
        return text
    k = rnd.choice(spots)
    return text[:k] + "1" + "0" * rnd.choice([20, 308, 309, 400, 4299, 4301, 5000]) + text[k:]


def deep_nesting(text: str, rnd: random.Random) -> str:
    depth = rnd.choice([10, 31, 32, 33, 100, 1200, 5000])
    if rnd.random() < 0.5:
        opener, closer = rnd.choice([("[", "]"), ("{a: ", "}")])
        value = opener * depth + closer * depth * rnd.choice([1, 0])
        return replace_value_with(text, rnd, value)
    block = "".join(" " * k + f"k{k}:\n" for k in range(min(depth, 500)))
    return block + text if rnd.random() < 0.5 else text + "\nx:\n" + "".join(" " * (k + 1) + "- \n" for k in range(
        min(depth, 300)))


def replace_value_with(text: str, rnd: random.Random, value: str) -> str:
    lines = _lines(text)
    found = _key_lines(lines)
    if not found:
        return text
    i = rnd.choice(found)
    m = _KEY_LINE.match(lines[i])
    assert m is not None
    lines[i] = f"{m['indent']}{m['key']}: {value}"
    return "\n".join(lines)


def alias_bomb(text: str, rnd: random.Random) -> str:
    levels, width = rnd.randint(3, 12), rnd.choice([2, 5, 10])
    bomb = [f"b0: &b0 [{', '.join(['lol'] * width)}]"]
    bomb += [f"b{k}: &b{k} [{', '.join([f'*b{k - 1}'] * width)}]" for k in range(1, levels)]
    where = rnd.random()
    if where < 0.4:
        return "\n".join(bomb) + "\n" + text
    if where < 0.7:  # used as a value the schema reads all of
        return "\n".join(bomb) + "\n" + replace_value_with(text, rnd, f"*b{levels - 1}")
    cycle = rnd.choice(["c: &c [*c]", "c: &c {k: *c}", "c: &c {<<: *c}", "c: &c [[[*c]]]"])
    return cycle + "\n" + text


def prefix(text: str, rnd: random.Random) -> str:
    return rnd.choice(PREFIXES) + text


def documents(text: str, rnd: random.Random) -> str:
    return text + rnd.choice(["\n---\n", "\n...\n", "\n--- \nid: other\n", "\n---\n" + text])


def big_file(text: str, rnd: random.Random) -> str:
    size = rnd.choice([60_000, 66_000, 200_000, 5_000_000])
    pad = rnd.choice(["# padding\n", "x: 1\n", "- a\n", "  \n"])
    return text + "\n" + pad * (size // len(pad))


def indent(text: str, rnd: random.Random) -> str:
    lines = _lines(text)
    i = rnd.randrange(len(lines))
    lines[i] = rnd.choice([" ", "  ", "\t", "   ", ""]) + (lines[i][rnd.randint(0, 2):] if rnd.random() < 0.5
                                                             else lines[i])
    return "\n".join(lines)


def delete_line(text: str, rnd: random.Random) -> str:
    lines = _lines(text)
    del lines[rnd.randrange(len(lines))]
    return "\n".join(lines)


def rename_section(text: str, rnd: random.Random) -> str:
    names = ["steps", "expectations", "workload", "recovery", "backup", "stack"]
    a, b = rnd.sample(names, 2)
    return re.sub(rf"^{a}:", f"{b}:", text, count=1, flags=re.M)


def move_field(text: str, rnd: random.Random) -> str:
    """At the data level: a key of one mapping moved into another anywhere in the document, then
    written out again (block or flow style)."""
    if len(text) > 20_000:  # reading a big file here would cost more than validating it
        return text
    yaml = YAML(typ="safe", pure=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a reused anchor
            data = yaml.load(text)
    except Exception:  # an earlier mutation broke it: nothing to move
        return text
    maps: list[dict[Any, Any]] = []
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if id(node) in seen:  # shared by aliases, or a cycle
            return
        seen.add(id(node))
        if isinstance(node, dict):
            maps.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data)
    sources = [m for m in maps if m]
    if len(maps) < 2 or not sources:
        return text
    src = rnd.choice(sources)
    key = rnd.choice(list(src))
    dst = rnd.choice([m for m in maps if m is not src] or maps)
    value = src[key] if rnd.random() < 0.5 else src.pop(key)
    if key not in dst:
        dst[key] = value
    out = io.StringIO()
    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = rnd.choice([False, None, True])
    try:
        dumper.dump(data, out)
    except Exception:  # e.g. a cycle the safe loader built from aliases
        return text
    return out.getvalue()


def byte_edits(data: bytes, rnd: random.Random) -> bytes:
    alphabet = b"[]{}:,-&*!|>'\"#%@`?\n\t \\~" + bytes(range(0, 32)) + b"\x80\xff\xfe\xc3\xa9"
    out = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        k = rnd.randrange(len(out) + 1)
        op = rnd.random()
        byte = rnd.choice(alphabet) if rnd.random() < 0.7 else rnd.randrange(256)
        if op < 0.4 and out:
            out[min(k, len(out) - 1)] = byte
        elif op < 0.7:
            out.insert(k, byte)
        elif out:
            del out[min(k, len(out) - 1)]
    return bytes(out)


TEXT_MUTATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "replace_value": replace_value, "move_line": move_line,
    "copy_line": lambda t, r: move_line(t, r, keep=True), "add_field": add_field, "merge_key": merge_key,
    "tag": tag, "unicode_digits": unicode_digits, "huge_int": huge_int, "deep_nesting": deep_nesting,
    "alias_bomb": alias_bomb, "prefix": prefix, "documents": documents, "indent": indent,
    "delete_line": delete_line, "rename_section": rename_section, "move_field": move_field,
    "big_file": big_file,
}
# big_file is rare: the file-size bound answers them all alike, and they cost disk.
_WEIGHTS = {name: (0.2 if name == "big_file" else 1.0) for name in TEXT_MUTATIONS}


def mutate(rnd: random.Random, *, seed_name: str | None = None) -> tuple[bytes, list[str]]:
    """One malformed file: a scenario of this project with 1-4 mutations; the names of the
    mutations applied, for the report."""
    name = seed_name or rnd.choice(sorted(SEEDS))
    text = SEEDS[name]
    applied: list[str] = []
    for _ in range(rnd.randint(1, 4)):
        kind = rnd.choices(list(_WEIGHTS), weights=list(_WEIGHTS.values()))[0]
        text = TEXT_MUTATIONS[kind](text, rnd)
        applied.append(kind)
    data = text.encode("utf-8", "surrogatepass")
    if rnd.random() < 0.25:
        data = byte_edits(data, rnd)
        applied.append("bytes")
    return data, applied
