from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drills.provision.base_image import apt_mirror
from drills.provision.images import ImageSpec, context_files, discover, inputs_hash


def make_context(root: Path, files: dict[str, bytes]) -> ImageSpec:
    ctx = root / "demo"
    ctx.mkdir(parents=True, exist_ok=True)
    (ctx / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    for rel, data in files.items():
        path = ctx / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return ImageSpec("demo", ctx)


def test_hash_is_stable_and_tracks_every_input(tmp_path):
    spec = make_context(tmp_path, {"app.py": b"print(1)\n", "conf/a.cfg": b"x=1\n"})
    args = {"BASE_IMAGE": "drills/base:bookworm"}
    first = inputs_hash(spec, "sha256:base1", args)
    assert inputs_hash(spec, "sha256:base1", args) == first
    assert inputs_hash(spec, "sha256:base2", args) != first, "a new base image must rebuild"
    assert inputs_hash(spec, "sha256:base1", {"BASE_IMAGE": "debian:bookworm-slim"}) != first
    (spec.context / "conf/a.cfg").write_bytes(b"x=2\n")
    changed = inputs_hash(spec, "sha256:base1", args)
    assert changed != first
    (spec.context / "run.sh").write_text("#!/bin/sh\n")
    added = inputs_hash(spec, "sha256:base1", args)
    assert added != changed
    (spec.context / "run.sh").chmod(0o755)
    assert inputs_hash(spec, "sha256:base1", args) != added, "the exec bit is an input of the image"


def test_wheelhouse_and_caches_are_not_inputs(tmp_path):
    spec = make_context(tmp_path, {"requirements.txt": b"pika==1.3.2\n"})
    before = inputs_hash(spec, "b", {})
    make_context(tmp_path, {"wheels/pika-1.3.2-py3-none-any.whl": b"zip", "__pycache__/x.pyc": b"\0"})
    assert inputs_hash(spec, "b", {}) == before
    assert [p.name for p in context_files(spec.context)] == ["Dockerfile", "requirements.txt"]


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.binary(max_size=64), max_size=5),
       st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.binary(min_size=1, max_size=8))
def test_any_content_change_changes_the_hash(tmp_path_factory, files, name, extra):
    root = tmp_path_factory.mktemp("ctx")
    spec = make_context(root, files)
    before = inputs_hash(spec, "b", {})
    target = spec.context / name
    old = target.read_bytes() if target.exists() else b""
    target.write_bytes(old + extra)
    assert inputs_hash(spec, "b", {}) != before


def test_discover_finds_only_dirs_with_a_dockerfile(tmp_path):
    make_context(tmp_path, {})
    (tmp_path / "notes").mkdir()
    specs = discover(tmp_path)
    assert [s.name for s in specs] == ["demo"]
    assert ImageSpec("api-gw", tmp_path).env_var == "DRILLS_IMAGE_API_GW"
    assert ImageSpec("patroni", tmp_path).tag("abc") == "drills/patroni:abc"


def test_apt_mirror_reads_deb822_and_one_line_sources(tmp_path):
    deb822 = tmp_path / "debian.sources"
    deb822.write_text("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n")
    assert apt_mirror([deb822]) == "http://mirror.example/debian"
    legacy = tmp_path / "sources.list"
    legacy.write_text("deb [arch=amd64] http://other.example/debian bookworm main\n")
    assert apt_mirror([legacy]) == "http://other.example/debian"
    assert apt_mirror([tmp_path / "absent"]) == "http://deb.debian.org/debian"
