"""Every container's log kept in the run's folder: bounded, secrets never copied, nothing skipped
silently, sealed with the run (an edited log fails `drill verify`), and the system's events read
from it into the history."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drills.cli import main as cli
from drills.core.events import SystemEvent
from drills.core.history import History, load
from drills.records.evidence import seal
from drills.run.runner import Drill
from drills.stack.env import Secrets
from drills.stack.logs import HEADER, INDEX, REDACTED, Redactor, Window, allowances, collect, collect_logs, split_lines
from tests.report_factory import make_run

ORIGIN = datetime(2026, 12, 4, 16, 28, 0, tzinfo=UTC).timestamp()
WINDOW = Window(ORIGIN, ORIGIN + 120, ORIGIN)


def stamp(at: float) -> str:
    t = datetime.fromtimestamp(ORIGIN + at, UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z "


@dataclass
class FakeBox:
    service: str
    texts: list[tuple[float, str]] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    created: float | None = ORIGIN - 60
    fail_after: int | None = None  # lines read before the read fails (None: never)
    name: str = ""
    id: str = "0123456789abcdef"

    def __post_init__(self) -> None:
        self.name = self.name or f"drills-x-{self.service}-1"

    def lines(self, since: float, until: float) -> Iterator[str]:
        for i, (at, text) in enumerate(self.texts):
            if self.fail_after is not None and i >= self.fail_after:
                raise OSError("No such container: gone while its log was read")
            yield stamp(at) + text


def read_index(out: Path) -> dict[str, Any]:
    return json.loads((out / INDEX).read_text())


def entry(out: Path, service: str) -> dict[str, Any]:
    [found] = [e for e in read_index(out)["containers"] if e["service"] == service]
    return found


# ---- secrets -------------------------------------------------------------------------------------

SECRET = st.text(alphabet="ghijkmnpqrstuvwxyzGHJKMNPQRSTUVWXYZ", min_size=8, max_size=24)
PLACES = ["{s}", "connecting with {s}", "password={s}", "PGPASSWORD={s} psql", '{{"password": "{s}"}}',
          "postgresql://app:{s}@pg1:5432/app", "token: {s}", "Lock owner: pg1; I am pg2 {s}",
          "promoted self to leader by acquiring session lock {s}"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generated=SECRET, own=SECRET, places=st.lists(st.sampled_from(PLACES), min_size=1, max_size=6))
def test_a_secret_never_reaches_a_log_file_nor_an_event(tmp_path_factory, generated, own, places):
    """The run's generated secrets, and a secret of the stack's own environment (a user's stack)."""
    out = tmp_path_factory.mktemp("logs")
    texts = [(float(i), p.format(s=generated if i % 2 else own)) for i, p in enumerate(places)]
    boxes = [FakeBox("pg1", texts, env=["POSTGRES_PASSWORD=" + own, "PATH=/usr/bin"])]
    got = collect(boxes, out, WINDOW, secrets=[generated], defined=["pg1"])
    for path in out.iterdir():
        text = path.read_text()
        assert generated not in text and own not in text, path.name
    for event in got.events:
        assert generated not in event.line and own not in event.line


def test_the_run_s_real_secrets_are_masked_wherever_they_appear(tmp_path):
    secrets = Secrets.generate().env()
    texts = [(1.0, f"FATAL: password authentication failed; tried {value}") for value in secrets.values()]
    collect([FakeBox("pg1", texts)], tmp_path, WINDOW, secrets=secrets.values())
    text = (tmp_path / "pg1.log").read_text()
    assert all(value not in text for value in secrets.values())
    assert text.count(REDACTED) == len(secrets)


def test_the_docker_timestamp_survives_a_secret_made_of_digits(tmp_path):
    digits = stamp(3.0)[:10].replace("-", "")  # e.g. 20261204: a poor secret, but a value all the same
    collect([FakeBox("pg1", [(3.0, f"x {digits}")], env=[f"APP_TOKEN={digits}"])], tmp_path, WINDOW, secrets=[])
    [_, line] = (tmp_path / "pg1.log").read_text().splitlines()
    assert line == stamp(3.0) + f"x {REDACTED}"


def test_inline_secrets_are_masked_and_ordinary_words_are_not():
    redact = Redactor([])
    assert redact("password=hunter2 user=app") == f"password={REDACTED} user=app"
    assert redact("postgres://app:hunter2@pg1/app") == f"postgres://app:{REDACTED}@pg1/app"
    plain = "FATAL: password authentication failed for user \"app\"; Lock owner: pg1; I am pg2"
    assert redact(plain) == plain


# ---- bounds --------------------------------------------------------------------------------------


def test_a_log_over_its_limit_keeps_its_end_and_says_what_was_cut(tmp_path):
    texts = [(i / 10, f"line {i:04d} " + "x" * 90) for i in range(1000)]  # ~100 bytes of text each
    window = Window(ORIGIN, ORIGIN + 120, ORIGIN, per_container=20_000, total=1 << 20)
    collect([FakeBox("pg1", texts)], tmp_path, window, secrets=[])
    header, *kept = (tmp_path / "pg1.log").read_text().splitlines()
    e = entry(tmp_path, "pg1")
    assert e["lines"] == len(kept) and e["lines"] + e["lines_cut"] == 1000
    assert sum(len(line) + 1 for line in kept) == e["bytes"] <= 20_000
    assert kept[-1].split(" ", 1)[1].startswith("line 0999")
    assert kept[0].split(" ", 1)[1].startswith(f"line {e['lines_cut']:04d}")
    assert header.startswith(HEADER) and f"cut the first {e['lines_cut']} line(s)" in header


def test_events_are_read_from_lines_the_limit_cuts(tmp_path):
    texts = [(1.0, "INFO: promoted self to leader by acquiring session lock")]
    texts += [(2 + i / 100, "noise " * 30) for i in range(500)]
    window = Window(ORIGIN, ORIGIN + 120, ORIGIN, per_container=5_000, total=1 << 20)
    got = collect([FakeBox("pg1", texts)], tmp_path, window, secrets=[])
    assert "promoted self" not in (tmp_path / "pg1.log").read_text()
    assert [(e.kind, round(e.at, 3)) for e in got.events] == [("promoted", 1.0)]


def test_all_logs_together_stay_within_the_total(tmp_path):
    boxes = [FakeBox("quiet", [(1.0, "one line")])] + \
        [FakeBox(f"loud{i}", [(j / 100, "y" * 200) for j in range(400)]) for i in range(3)]
    window = Window(ORIGIN, ORIGIN + 120, ORIGIN, per_container=60_000, total=100_000)
    collect(boxes, tmp_path, window, secrets=[])
    entries = read_index(tmp_path)["containers"]
    assert sum(e["bytes"] for e in entries) <= 100_000
    assert entry(tmp_path, "quiet")["lines_cut"] == 0
    assert all(e["lines_cut"] > 0 for e in entries if e["service"].startswith("loud"))


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12), st.integers(min_value=0, max_value=50_000))
def test_allowances_share_the_total_small_logs_whole(sizes, total):
    got = allowances(sizes, total)
    assert len(got) == len(sizes)
    assert all(0 <= a <= s for a, s in zip(got, sizes, strict=True))
    if sum(sizes) <= total:
        assert got == sizes
    else:
        assert sum(got) <= total
        level = max(got)
        assert all(a in (s, level) for a, s in zip(got, sizes, strict=True))
        assert total - sum(got) < max(len(sizes), 1)  # only the rounding of the share is left unused


@given(st.lists(st.binary(max_size=30), max_size=8))
def test_lines_are_whole_however_the_stream_is_chunked(chunks):
    raw = b"".join(chunks).split(b"\n")
    if raw[-1] == b"":  # the stream ended with a newline: nothing after it
        raw.pop()
    expected = [line.rstrip(b"\r").decode("utf-8", errors="replace") for line in raw]
    assert list(split_lines(chunks)) == expected


# ---- nothing skipped silently --------------------------------------------------------------------


def test_a_service_without_a_container_and_a_log_that_cannot_be_read_are_in_the_index(tmp_path):
    boxes = [FakeBox("pg1", [(1.0, "ok")]), FakeBox("pg3", [(1.0, "first"), (2.0, "second")], fail_after=1)]
    collect(boxes, tmp_path, WINDOW, secrets=[], defined=["pg1", "pg2", "pg3"])
    gone = entry(tmp_path, "pg2")
    assert gone["container"] is None and gone["file"] is None and "no container" in gone["error"]
    broken = entry(tmp_path, "pg3")
    assert broken["lines"] == 1 and "log not read to its end" in broken["error"] and "OSError" in broken["error"]
    assert "ERROR log not read to its end" in (tmp_path / "pg3.log").read_text().splitlines()[0]
    assert entry(tmp_path, "pg1")["error"] is None
    assert read_index(tmp_path)["error"] is None


def test_services_not_known_are_said_to_be_unchecked(tmp_path):
    got = collect([FakeBox("pg1", [])], tmp_path, WINDOW, secrets=[], defined=None)
    assert got.error is not None and "not read" in read_index(tmp_path)["error"]


def test_a_container_created_during_the_drill_says_its_predecessor_s_log_is_gone(tmp_path):
    collect([FakeBox("pg2", [(30.0, "x")], created=ORIGIN + 25.5)], tmp_path, WINDOW, secrets=[])
    e = entry(tmp_path, "pg2")
    assert e["created_s"] == 25.5 and "gone" in e["note"]


def test_two_containers_of_one_service_get_a_file_each(tmp_path):
    boxes = [FakeBox("pg1", [(1.0, "a")], id="aaaaaaaaaaaa1111"), FakeBox("pg1", [(1.0, "b")], id="bbbbbbbbbbbb2222",
                                                                         name="drills-x-pg1-helper")]
    collect(boxes, tmp_path, WINDOW, secrets=[])
    assert sorted(p.name for p in tmp_path.glob("*.log")) == ["pg1-aaaaaaaaaaaa.log", "pg1-bbbbbbbbbbbb.log"]


def test_collect_logs_never_raises_and_says_why_nothing_was_collected(tmp_path):
    class Broken:
        project = "drills-x"

        @property
        def client(self) -> Any:
            raise ConnectionError("the engine does not answer")

    got = collect_logs(Broken(), tmp_path / "logs", origin=ORIGIN)  # type: ignore[arg-type]
    assert got.events == [] and "the engine does not answer" in (got.error or "")
    assert "the engine does not answer" in read_index(tmp_path / "logs")["error"]


# ---- sealed with the run --------------------------------------------------------------------------


def test_drill_verify_names_an_edited_log(tmp_path):
    run = make_run(tmp_path / "reports", do_seal=False)
    collect([FakeBox("pg1", [(1.0, "INFO: promoted self to leader by acquiring session lock")])], run / "logs",
            WINDOW, secrets=[])
    manifest = seal(run)
    assert {"logs/pg1.log", "logs/index.json"} <= set(manifest["artifacts"])
    assert CliRunner().invoke(cli.cli, ["verify", str(run)]).exit_code == 0
    log = run / "logs" / "pg1.log"
    log.write_text(log.read_text().replace("promoted self", "demoted self!"))
    bad = CliRunner().invoke(cli.cli, ["verify", str(run)])
    assert bad.exit_code == 1
    assert "artifact changed: logs/pg1.log" in bad.output


# ---- into the history, through the runner ---------------------------------------------------------


class FakeContainer(SimpleNamespace):
    pass


class FakeApi:
    def __init__(self, logs: dict[str, bytes]) -> None:
        self._logs = logs
        self.asked: list[dict[str, Any]] = []

    def logs(self, container: str, **kw: Any) -> Iterator[bytes]:
        self.asked.append(kw)
        data = self._logs[container]
        return iter([data[:7], data[7:]])  # a line cut across two chunks


def test_the_runner_puts_the_logs_in_the_run_folder_and_the_system_s_events_in_the_history(tmp_path):
    t0 = time.monotonic() - 10.0  # the drill began 10 s ago
    origin = time.time() - 10.0
    promoted = datetime.fromtimestamp(origin + 4.0, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z "
    data = (promoted + "INFO: promoted self to leader by acquiring session lock\n").encode()
    secrets = Secrets.generate()
    containers = [FakeContainer(labels={"com.docker.compose.service": "pg1"}, name="drills-x-pg1-1", id="c1" * 8,
                                attrs={"Created": "2026-01-01T00:00:00.000000000Z", "Config": {"Env": []}})]
    api = FakeApi({"c1" * 8: data})
    client = SimpleNamespace(api=api, containers=SimpleNamespace(list=lambda **kw: containers))
    stack = SimpleNamespace(client=client, project="drills-x", settings=SimpleNamespace(secrets=secrets),
                            defined_services=lambda: ("pg1", "pg2"), secret_values=lambda: list(secrets.env().values()))
    drill = object.__new__(Drill)
    drill.stack, drill.out, drill.t0 = stack, tmp_path, t0  # type: ignore[assignment]
    drill.history = History(tmp_path / "history.jsonl")
    drill._collect_logs()
    drill.history.close()
    assert api.asked and api.asked[0]["follow"] is False and api.asked[0]["timestamps"] is True
    assert api.asked[0]["since"] == pytest.approx(origin, abs=0.5)
    _, events = load(tmp_path / "history.jsonl")
    [event] = [e for e in events if e.name == SystemEvent.NAME]
    assert event.at == pytest.approx(4.0, abs=0.5)
    assert event.data["service"] == "pg1" and event.data["kind"] == "promoted"
    assert (tmp_path / "logs" / "pg1.log").exists()
    assert entry(tmp_path / "logs", "pg2")["error"].startswith("no container")
