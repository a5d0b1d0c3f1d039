"""The HTML report as a browser shows it: headless Chromium, a screenshot, pixels checked.

Chromium comes from the OS packages (`apt-get install chromium`, as root, only when missing). The
report must render offline: every request but file:// goes to a dead proxy on 127.0.0.1, and
Chromium's own background traffic is switched off.

What is checked, on the screenshot (1280x2000, sRGB, scale 1):
- it is not blank (many colours, a fair share of non-white pixels);
- the DR-readiness summary is at the top with a NOT READY (red) and a READY (green) badge;
- below it, the first timeline: its fault window is shaded, as wide as the fault lasted
  (10 s of the 34 s plot), and the failed operations (red) start at the injection and run past the heal.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib

import pytest

from drills.report.render import render
from drills.report.runs import load_runs
from drills.report.timeline import COLORS, LEFT, RIGHT, WIDTH
from tests.report_factory import make_run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WINDOW = (1280, 2000)
BADGE_FAIL, BADGE_PASS = (0xD1, 0x24, 0x2F), (0x1A, 0x7F, 0x37)  # .badge.fail / .badge.pass in the template


def rgb(hex_colour: str) -> tuple[int, int, int]:
    h = hex_colour.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("chromium is not installed, and installing it needs root and apt-get (apt-get install -y chromium)")
    from drills.provision.engine import apt_install
    from drills.provision.progress import ConsoleReporter

    apt_install(["chromium"], ConsoleReporter())
    found = shutil.which("chromium")
    assert found, "apt-get install chromium succeeded but no chromium on PATH"
    return found


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """8-bit RGB/RGBA, non-interlaced PNG -> width, height, rows of RGB bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = depth = colour = interlace = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    i = 0
    for _ in range(height):
        kind_, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if kind_ == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif kind_ == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind_ == 3:
            for x in range(stride):
                line[x] = (line[x] + (((line[x - bpp] if x >= bpp else 0) + prev[x]) >> 1)) & 255
        elif kind_ == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line) if bpp == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3))
        prev = line
    return width, height, rows


def where(rows: list[bytes], colour: tuple[int, int, int], tol: int = 2) -> list[tuple[int, int]]:
    """(x, y) of every pixel of `colour` (each channel within `tol`)."""
    r0, g0, b0 = colour
    out = []
    for y, row in enumerate(rows):
        for x in range(0, len(row), 3):
            if abs(row[x] - r0) <= tol and abs(row[x + 1] - g0) <= tol and abs(row[x + 2] - b0) <= tol:
                out.append((x // 3, y))
    return out


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory) -> tuple[int, int, list[bytes]]:
    browser = chromium()
    base = tmp_path_factory.mktemp("browser")
    reports = base / "reports"
    make_run(reports, outage=(5.3, 27.0), lost=2, after=15.0)  # #1 postgres: FAILED, plot 34 s, fault 5-15 s
    make_run(reports, name="rabbitmq-node-partition")  # #2 rabbitmq: PASSED
    (html,) = render(load_runs([reports]), base / "out", ["html"])
    png = base / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
           "--force-device-scale-factor=1", f"--window-size={WINDOW[0]},{WINDOW[1]}",
           f"--user-data-dir={base / 'profile'}",
           "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--metrics-recording-only",
           "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
           f"--screenshot={png}", html.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL)
    assert png.exists(), f"chromium wrote no screenshot (exit {done.returncode}):\n{done.stderr[-2000:]}"
    return decode_png(png.read_bytes())


def test_the_screenshot_is_not_blank(screenshot):
    width, height, rows = screenshot
    assert (width, height) == WINDOW
    sample = {row[x:x + 3] for row in rows[::8] for x in range(0, len(row), 24)}
    assert len(sample) > 40, "too few colours: a blank or unstyled page"
    non_white = sum(1 for row in rows[::4] for x in range(0, len(row), 12) if row[x:x + 3] != b"\xff\xff\xff")
    assert non_white > 0.04 * (len(rows) // 4) * (len(rows[0]) // 12)


def test_the_summary_shows_the_readiness_badges_at_the_top(screenshot):
    _, _, rows = screenshot
    red, green = where(rows[:600], BADGE_FAIL), where(rows[:600], BADGE_PASS)
    assert len(red) > 300, "no NOT READY badge in the summary"
    assert len(green) > 300, "no READY badge in the summary"
    # NOT READY (postgres) is the row above READY (rabbitmq), in the same column.
    assert min(y for _, y in red) < min(y for _, y in green)
    assert abs(min(x for x, _ in red) - min(x for x, _ in green)) <= 2


def test_the_timeline_shades_the_fault_window_and_shows_the_outage(screenshot):
    _, _, rows = screenshot
    shade = where(rows, rgb(COLORS["fault"]))
    assert len(shade) > 2000, "no fault window shading on the first screen"
    per_row: dict[int, int] = {}
    for _, y in shade:
        per_row[y] = per_row.get(y, 0) + 1
    band = {y for y, n in per_row.items() if n >= 100}  # the window, not the legend's 10-px swatch
    shade = [(x, y) for x, y in shade if y in band]
    xs, ys = [x for x, _ in shade], [y for _, y in shade]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    badges = where(rows[:600], BADGE_PASS)
    assert y0 > max(y for _, y in badges), "the timeline is below the summary"
    plot_w = WIDTH - LEFT - RIGHT
    t_end = 34.0
    expected = plot_w * 10.0 / t_end  # the fault held 10 s of the 34 s the plot spans
    assert abs((x1 - x0 + 1) - expected) <= 4, (x0, x1, expected)
    # Failed ops (red bins) in the shaded rows: they begin just after the injection and go on past the heal.
    fails = where(rows[y0:y1 + 1], rgb(COLORS["fail"]))
    assert len(fails) > 500
    fx0, fx1 = min(x for x, _ in fails), max(x for x, _ in fails)
    assert x0 <= fx0 <= x0 + plot_w * 1.0 / t_end
    assert fx1 > x1 + plot_w * 5.0 / t_end  # the outage lasted 12 s past the heal
    # Successful ops (green bins) before the fault, in the same rows.
    oks = where(rows[y0:y1 + 1], rgb(COLORS["ok"]))
    assert min(x for x, _ in oks) < x0 - plot_w * 3.0 / t_end
