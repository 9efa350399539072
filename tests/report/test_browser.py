"""The HTML report in a real browser: headless Chromium through selenium.

Checks that every chart is drawn (its div holds an SVG with the expected marks), that the
page logs no console error, and that a screenshot is not blank. Skipped where Chromium,
chromedriver or selenium is missing (``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from metabench.report import Chart, Provenance, Report, Section, Text

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.browser


@pytest.fixture
def driver(tmp_path: Path) -> Iterator[object]:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(
            f"headless browser tests need {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def _open(driver, page: Path) -> list[dict]:
    """Load ``page``, wait until the embed script has finished, return the console log."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(page.resolve().as_uri())
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element("tag name", "body").get_attribute("data-charts") == "ready"
    )
    return driver.get_log("browser")


def decode_png(data: bytes) -> np.ndarray:
    """Decode an 8-bit, non-interlaced PNG (grey, RGB, grey+alpha or RGBA) with zlib and numpy.

    Returns an array of shape (height, width, channels).
    """
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, header, idat = 8, None, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace != 0 or colour not in (0, 2, 4, 6):
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:  # None
            cur = line.copy()
        elif kind == 1:  # Sub: running sum along the row, per channel, modulo 256
            cur = np.cumsum(line.reshape(width, bpp), axis=0, dtype=np.uint8).reshape(stride)
        elif kind == 2:  # Up
            cur = line + prev
        elif kind in (3, 4):  # Average, Paeth: sequential along the row
            row, up = bytearray(line.tobytes()), prev.tobytes()
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = up[i]
                if kind == 3:
                    row[i] = (row[i] + ((a + b) >> 1)) & 255
                else:
                    c = up[i - bpp] if i >= bpp else 0
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.frombuffer(bytes(row), dtype=np.uint8)
        else:
            raise ValueError(f"bad PNG filter type {kind} in row {y}")
        out[y] = cur
        prev = out[y]
    return out.reshape(height, width, bpp)


def test_decode_png_round_trip() -> None:
    # Two rows, RGB, with the Sub and Up filters written by hand.
    pixels = np.array([[[10, 20, 30], [15, 25, 35]], [[11, 22, 33], [0, 0, 255]]], dtype=np.uint8)
    row0 = bytes([1]) + bytes([10, 20, 30, 5, 5, 5])
    row1 = bytes([2]) + bytes(((pixels[1] - pixels[0]).astype(np.uint8)).reshape(-1))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row0 + row1))
        + chunk(b"IEND", b"")
    )
    np.testing.assert_array_equal(decode_png(png), pixels)


def test_report_renders_in_chromium(driver, report: Report, tmp_path: Path) -> None:
    page = report.save(tmp_path / "out", formats=("html",))["html"]
    log = _open(driver, page)

    # (a) every chart div now holds the drawing, with one mark per data point.
    drawn = driver.execute_script(
        """return Array.from(document.querySelectorAll('.chart-body')).map(el => ({
            id: el.id,
            graphics: el.querySelectorAll('svg, canvas').length,
            error: el.classList.contains('chart-error'),
            marks: Array.from(el.querySelectorAll('g.role-mark')).map(
                g => [g.getAttribute('class').split(' ')[0], g.querySelectorAll('path, line').length]),
        }))"""
    )
    assert [d["id"] for d in drawn] == ["chart-heatmap", "charts-chart-2"]
    assert all(d["graphics"] >= 1 and not d["error"] for d in drawn)
    assert drawn[0]["marks"] == [["mark-rect", 11]]  # 12 cells, one missing
    assert ["mark-rect", 3] in drawn[1]["marks"] and ["mark-rule", 3] in drawn[1]["marks"]  # bars, error bars

    # (b) nothing went wrong in the console.
    severe = [entry for entry in log if entry.get("level") == "SEVERE"]
    assert severe == [], severe

    # (c) the page is not blank: the whole page, charts included, has many colours.
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1200, min(height + 150, 4000))
    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    image = decode_png(shot.read_bytes())[..., :3]
    assert image.shape[0] >= 1000 and image.shape[1] >= 1000
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 200
    not_white = np.any(image < 250, axis=2).mean()
    assert 0.02 < not_white < 0.6
    # A viridis heat-map cell is strongly coloured: some pixels are far from grey.
    saturation = image.max(axis=2).astype(int) - image.min(axis=2).astype(int)
    assert (saturation > 100).sum() > 1000


def test_broken_chart_is_reported_in_place(driver, provenance: Provenance, tmp_path: Path) -> None:
    # A bad spec must show an error instead of the chart and log it; the good chart still draws.
    good = {"mark": "bar", "data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    bad = {"data": {"values": [{"x": 1}]}, "encoding": {"x": {"field": "x"}}}  # no mark
    report = Report(
        "t", provenance, [Section("s", [Text("Two charts."), Chart(good, name="good"), Chart(bad, name="bad")])]
    )
    page = tmp_path / "index.html"
    page.write_text(report.to_html(), encoding="utf-8")
    log = _open(driver, page)
    state = driver.execute_script(
        """return ['chart-good', 'chart-bad'].map(id => {
            const el = document.getElementById(id);
            return [el.querySelectorAll('svg').length, el.classList.contains('chart-error'), el.textContent];
        })"""
    )
    assert state[0][:2] == [1, False]
    assert state[1][:2] == [0, True] and state[1][2].startswith("This chart could not be drawn:")
    assert any(entry["level"] == "SEVERE" for entry in log)


def test_data_overview_of_bundled_runs_renders(driver, tmp_path: Path) -> None:
    # The report `metabench analyze` writes for real runs and a real leaderboard: every chart draws.
    import metabench

    runs = metabench.load("data/runs/medagents_zero_shot.parquet")
    board = metabench.load("data/leaderboards/helm_lite_240829_holistic.csv")
    report = metabench.analyze([runs, board], ["overview"])
    page = report.save(tmp_path / "out", formats=("html",))["html"]
    log = _open(driver, page)
    drawn = driver.execute_script(
        """return Array.from(document.querySelectorAll('.chart-body')).map(el => ({
            id: el.id, svg: el.querySelectorAll('svg').length, error: el.classList.contains('chart-error'),
            marks: el.querySelectorAll('g.role-mark path, g.role-mark line').length}))"""
    )
    assert len(drawn) == 3  # coverage + score intervals of the runs, coverage of the leaderboard
    assert all(d["svg"] == 1 and not d["error"] for d in drawn), drawn
    # coverage heat-map: one rect per (system, benchmark) = 10 × 7; the leaderboard: 72 models × 1 column
    assert drawn[0]["marks"] == 70
    assert drawn[2]["marks"] == 72
    # interval chart: a rule and a point per (system, benchmark)
    assert drawn[1]["marks"] == 2 * 70
    assert [e for e in log if e.get("level") == "SEVERE"] == []
