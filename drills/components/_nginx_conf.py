"""nginx's configuration as `nginx -T` prints it, read back into what a balancer drill depends on:
an upstream's servers with their passive checks, how it balances, and the retry rules of the
locations that proxy to it. Pure: text in, values out (tested on recorded `nginx -T` outputs).

    files = split_dump(text)                  # path -> content, the main file first
    conf = load(files)                        # directives, every `include` expanded in place
    up = upstreams(conf)["dashboards"]        # Upstream: servers, method
    proxies(conf, "dashboards")               # each location proxying to it, with its proxy_* values

`nginx -T` prints each file once, after the lines nginx writes about the test itself, under a
`# configuration file PATH:` line; an `include` stays a directive in the file that has it. The
tokenizer follows nginx's own (ngx_conf_file.c): `#` starts a comment only where a token would
start, quotes and backslashes escape, `${name}` is not a block. The values are kept as nginx
spells them (`5s`, `error timeout http_502`): Drills records them, it does not compute with them.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

_HEADER = re.compile(r"^# configuration file (.+):$", re.M)

# What nginx uses where a file does not say (nginx.org's reference for 1.22): recorded as such.
SERVER_DEFAULTS: Mapping[str, int | str] = {"weight": 1, "max_fails": 1, "fail_timeout": "10s"}
PROXY_DEFAULTS: Mapping[str, str] = {
    "proxy_next_upstream": "error timeout", "proxy_next_upstream_tries": "0", "proxy_next_upstream_timeout": "0",
    "proxy_connect_timeout": "60s", "proxy_read_timeout": "60s",
}
_METHODS = ("hash", "ip_hash", "least_conn", "random", "least_time", "sticky")  # the last two: nginx Plus
MAX_INCLUDE_DEPTH = 16  # nginx has no limit; a file including itself would not end


class ConfError(ValueError):
    """The text is not a configuration nginx would have dumped (unbalanced braces, a cut quote)."""


@dataclass(frozen=True)
class Directive:
    name: str
    args: tuple[str, ...] = ()
    block: tuple[Directive, ...] | None = None  # None: a simple directive (ends with `;`)
    where: str = ""  # file:line


@dataclass(frozen=True)
class Server:
    address: str  # as written: dashboard1:8080, 10.0.0.9:9000, unix:/run/app.sock
    options: Mapping[str, int | str | bool]  # weight, max_fails, fail_timeout as set; backup, down flags
    defaulted: tuple[str, ...] = ()  # options taken from nginx's defaults (not in the file)


@dataclass(frozen=True)
class Upstream:
    name: str
    servers: tuple[Server, ...]
    method: str  # "round-robin" where none is named; else the directive as written: "hash $lb_key consistent"
    where: str = ""


@dataclass(frozen=True)
class Proxy:
    """A place that proxies to an upstream (`location /`, `server` when proxy_pass is there) and the
    proxy_* values in force there: its own, else inherited from the blocks around it, else nginx's."""

    location: str  # "location /", "location = /api", "server"
    values: Mapping[str, str]
    defaulted: tuple[str, ...] = ()
    where: str = ""


# ---- the dump and the tokens -----------------------------------------------------------------------


def split_dump(text: str) -> dict[str, str]:
    """path -> content of every file `nginx -T` printed, in its order (the main file first). A text
    without one file is not a dump (ConfError: nginx failed its own test, or it is not nginx)."""
    heads = list(_HEADER.finditer(text))
    if not heads:
        first = text.strip().splitlines()[:3]
        raise ConfError("no `# configuration file` section in the output" + (f": {' / '.join(first)}" if first else ""))
    files: dict[str, str] = {}
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        files.setdefault(head.group(1), text[head.end() + 1:end])
    return files


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def _escaped(c: str, quote: str = "") -> str:
    """What nginx makes of a backslash and `c`: the quote itself, a backslash, a tab, CR or LF; any
    other pair stays as written (`\\.` in a regex location)."""
    return c if c in ("\\", "\"", "'", quote) else _ESCAPES.get(c, "\\" + c)


def _quoted(text: str, i: int, line: int, where: str) -> tuple[str, int, int]:
    """The quoted token starting at text[i] (a quote): its value, the index after it, the line."""
    quote, out, i = text[i], [], i + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(_escaped(text[i + 1], quote))
            i += 2
            continue
        if c == quote:
            return "".join(out), i + 1, line
        line += c == "\n"
        out.append(c)
        i += 1
    raise ConfError(f"{where}: a quote ({quote}) is never closed")


def _bare(text: str, i: int) -> tuple[str, int]:
    """The unquoted token starting at text[i], and the index after it. It ends at a space or at
    `;`, `{` or `}`, except that `${name}` (a variable) is part of it."""
    out: list[str] = []
    in_variable = False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            out.append(_escaped(text[i + 1]))
            i += 2
            continue
        if c == "{" and out and out[-1] == "$":
            in_variable = True
        elif c == "}" and in_variable:
            in_variable = False
        elif c.isspace() or c in ";{}":
            break
        out.append(c)
        i += 1
    return "".join(out), i


def tokens(text: str, file: str = "") -> Iterator[tuple[str, bool, int]]:
    """(token, special, line): `special` for the `{`, `}` and `;` that shape the configuration, not
    the same characters quoted."""
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c, True, line
            i += 1
        elif c in "\"'":
            start = line
            value, i, line = _quoted(text, i, line, f"{file}:{start}")
            yield value, False, start
        else:
            value, i = _bare(text, i)
            yield value, False, line


def parse(text: str, file: str = "") -> tuple[Directive, ...]:
    """The directives of one file, blocks nested; ConfError (file:line) for unbalanced ones."""
    stack: list[tuple[list[Directive], Directive | None]] = [([], None)]
    words: list[str] = []
    first_line = 0
    for token, special, line in tokens(text, file):
        if not special:
            if not words:
                first_line = line
            words.append(token)
            continue
        where = f"{file}:{first_line or line}"
        if token == ";":
            if words:
                stack[-1][0].append(Directive(words[0], tuple(words[1:]), None, where))
        elif token == "{":
            if not words:
                raise ConfError(f"{file}:{line}: a block without a directive")
            stack.append(([], Directive(words[0], tuple(words[1:]), None, where)))
        else:  # "}"
            if words or len(stack) == 1:
                raise ConfError(f"{file}:{line}: unexpected }}" + (f" after {' '.join(words)}" if words else ""))
            children, head = stack.pop()
            assert head is not None
            stack[-1][0].append(Directive(head.name, head.args, tuple(children), head.where))
        words = []
    if words or len(stack) > 1:
        head = stack[-1][1]
        inside = "a directive" if words or head is None else f"`{head.name}` block (opened at {head.where})"
        raise ConfError(f"{file}: the file ends inside {inside}")
    return tuple(stack[0][0])


# ---- includes ------------------------------------------------------------------------------------------


def _included(pattern: str, files: Sequence[str], conf_dir: str) -> list[str]:
    """The dumped files an `include` names, in the order nginx reads them (glob sorts). A relative
    pattern is relative to the main file's folder (nginx's conf prefix)."""
    path = posixpath.normpath(posixpath.join(conf_dir, pattern))
    if not any(ch in path for ch in "*?["):
        return [path] if path in files else []
    folder, name = posixpath.split(path)
    if any(ch in folder for ch in "*?["):
        return sorted(f for f in files if fnmatch.fnmatchcase(f, path))
    return sorted(f for f in files if posixpath.dirname(f) == folder and fnmatch.fnmatchcase(posixpath.basename(f),
                                                                                             name))


def load(files: Mapping[str, str]) -> tuple[Directive, ...]:
    """The main file's directives with every `include` replaced by the included files' directives."""
    if not files:
        raise ConfError("no configuration file")
    main = next(iter(files))
    names = list(files)
    parsed: dict[str, tuple[Directive, ...]] = {}

    def of(path: str) -> tuple[Directive, ...]:
        if path not in parsed:
            parsed[path] = parse(files[path], path)
        return parsed[path]

    def expand(directives: Sequence[Directive], depth: int) -> tuple[Directive, ...]:
        if depth > MAX_INCLUDE_DEPTH:
            raise ConfError(f"includes nest deeper than {MAX_INCLUDE_DEPTH} (a file including itself?)")
        out: list[Directive] = []
        for d in directives:
            if d.name == "include" and d.block is None and len(d.args) == 1:
                for path in _included(d.args[0], names, posixpath.dirname(main)):
                    out += expand(of(path), depth + 1)
            elif d.block is not None:
                out.append(Directive(d.name, d.args, expand(d.block, depth), d.where))
            else:
                out.append(d)
        return tuple(out)

    return expand(of(main), 0)


# ---- what a balancer drill depends on ---------------------------------------------------------------


def _blocks(directives: Sequence[Directive], name: str) -> Iterator[Directive]:
    return (d for d in directives if d.name == name and d.block is not None)


def _server(d: Directive) -> Server:
    options: dict[str, int | str | bool] = {}
    for arg in d.args[1:]:
        key, eq, value = arg.partition("=")
        options[key] = (int(value) if value.isdigit() else value) if eq else True
    defaulted = tuple(k for k in SERVER_DEFAULTS if k not in options)
    return Server(d.args[0] if d.args else "", {**SERVER_DEFAULTS, **options}, defaulted)


def upstreams(conf: Sequence[Directive]) -> dict[str, Upstream]:
    """Every `upstream` block of the `http` context, by name."""
    found: dict[str, Upstream] = {}
    for http in _blocks(conf, "http"):
        for up in _blocks(http.block or (), "upstream"):
            body = up.block or ()
            method = next((" ".join((d.name, *d.args)) for d in body if d.name in _METHODS), "round-robin")
            servers = tuple(_server(d) for d in body if d.name == "server" and d.block is None)
            name = up.args[0] if up.args else ""
            found[name] = Upstream(name, servers, method, up.where)
    return found


def _targets(proxy_pass: Directive, upstream: str) -> bool:
    """Whether `proxy_pass http://NAME[/...]` names the upstream (a variable names none knowably)."""
    url = proxy_pass.args[0] if proxy_pass.args else ""
    host = re.sub(r"^https?://", "", url).split("/", 1)[0]
    return host == upstream


def proxies(conf: Sequence[Directive], upstream: str) -> list[Proxy]:
    """Each place whose `proxy_pass` names `upstream`, with the proxy_* values in force there."""
    found: list[Proxy] = []

    def walk(block: Sequence[Directive], label: str, inherited: Mapping[str, str]) -> None:
        here = dict(inherited)
        here.update({d.name: " ".join(d.args) for d in block if d.name in PROXY_DEFAULTS and d.block is None})
        for d in block:
            if d.name == "proxy_pass" and d.block is None and _targets(d, upstream):
                values = {k: here.get(k, v) for k, v in PROXY_DEFAULTS.items()}
                found.append(Proxy(label, values, tuple(k for k in PROXY_DEFAULTS if k not in here), d.where))
            elif d.block is not None and d.name in ("server", "location", "if", "limit_except"):
                child = "server" if d.name == "server" else " ".join((d.name, *d.args))
                walk(d.block, child, here)

    for http in _blocks(conf, "http"):
        walk(http.block or (), "http", {})
    return found


@dataclass(frozen=True)
class Balancing:
    """What the configuration says of one upstream: its servers, its method, who proxies to it."""

    upstream: Upstream | None
    proxies: list[Proxy] = field(default_factory=list)
    known: tuple[str, ...] = ()  # every upstream the configuration defines (to name when one is missing)


def balancing(dump: str, upstream: str) -> Balancing:
    """From `nginx -T`'s output, what it says of `upstream` (ConfError when it is not a dump)."""
    conf = load(split_dump(dump))
    found = upstreams(conf)
    return Balancing(found.get(upstream), proxies(conf, upstream) if upstream in found else [], tuple(found))
