"""The report in a real browser: headless Chromium (the binary the npm package @sparticuz/chromium
ships, driven by puppeteer-core, both pinned in package-lock.json) opens a report made from a
committed full bench result at a 1280x900 window and measures its layout in the DOM: no horizontal
scrolling, every table inside the window, every plot loaded and no wider than the page, no text
spilling out of its cell, numbers and identifiers on one line. Fonts differ between machines, so
nothing is compared pixel by pixel; the screenshots are kept in the test's tmp dir for a person."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vcp_toolkit.bench.report import write_report

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "bench_full.json"
SCHEDULES = Path(__file__).parent / "fixtures" / "bench_schedules.json"
VIEWPORT = (1280, 900)
LONG_ID = "0x" + "9f3c" * 16  # a 32-byte identifier (a model root, say) in a table cell
NPM_PACKAGES = ("@sparticuz/chromium", "puppeteer-core")

# Chromium starts headless, offline and with a fresh profile; it extracts itself into TMPDIR.
DRIVER = r"""
import { createRequire } from "node:module";
import { join } from "node:path";
const [root, url, shotDir, profile] = process.argv.slice(2);
const require = createRequire(join(root, "package.json"));
const chromium = require("@sparticuz/chromium").default ?? require("@sparticuz/chromium");
const puppeteer = require("puppeteer-core");
const browser = await puppeteer.launch({
  executablePath: await chromium.executablePath(), headless: "shell", userDataDir: profile,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: Number(process.env.VIEW_W), height: Number(process.env.VIEW_H) });
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: join(shotDir, "report-first-screen.png") });
  await page.screenshot({ path: join(shotDir, "report-full.png"), fullPage: true });
  const facts = await page.evaluate(() => {
    // numbers (with their unit) and model widths: text that must never break across lines
    const ONE_LINE = /^(n\/a|[≤≥]? ?-?[\d,]*\.?\d+(e[-+]?\d+)?( (µs|ms|s|MB))?|\d+((->|→)\d+)+)$/;
    const lines = (el) => { const r = document.createRange(); r.selectNodeContents(el);
      return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; };
    const body = getComputedStyle(document.body);
    return {
      innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
      column: document.body.clientWidth - parseFloat(body.paddingLeft) - parseFloat(body.paddingRight),
      tables: [...document.querySelectorAll("table")].map((t) => ({
        left: t.getBoundingClientRect().left, right: t.getBoundingClientRect().right, rows: t.rows.length,
        fit: t.classList.contains("fit"),
        boxScroll: t.parentElement.scrollWidth, boxClient: t.parentElement.clientWidth })),
      images: [...document.images].map((i) => ({ alt: i.alt, complete: i.complete, natural: i.naturalWidth,
        width: i.getBoundingClientRect().width, right: i.getBoundingClientRect().right })),
      spilled: [...document.querySelectorAll("td, th")].filter((c) => c.scrollWidth > c.clientWidth + 1)
        .map((c) => c.textContent),
      wrapped: [...document.querySelectorAll("td")].filter((c) => ONE_LINE.test(c.textContent.trim()))
        .filter((c) => lines(c) > 1).map((c) => c.textContent),
      titled: [...document.querySelectorAll("td [title]")].map((e) => [e.textContent, e.title]),
    };
  });
  console.log(JSON.stringify({ browser: await browser.version(), ...facts }));
} finally {
  await browser.close();
}
"""


def _npm_ready() -> None:
    if shutil.which("node") is None:
        pytest.fail("node is missing: the report's browser test needs Node.js 20 (see README)")
    missing = [p for p in NPM_PACKAGES if not (ROOT / "node_modules" / p / "package.json").exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} not in node_modules: run `make npm` (npm install from package-lock.json)")


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    """The layout facts of the report as Chromium lays it out, and the screenshots' folder."""
    _npm_ready()
    work = tmp_path_factory.mktemp("report-browser")
    result = json.loads(FIXTURE.read_text())
    measured = json.loads(SCHEDULES.read_text())  # the schedule and dollar tables, the report's widest
    result.update(schedules=measured["schedules"], fee_params=measured["fee_params"])
    throughput = next(r for r in result["rows"] if r["mode"] == "throughput")
    result["rows"].append({**throughput, "chain": LONG_ID})
    bench = work / "bench.json"
    bench.write_text(json.dumps(result))
    report = write_report(bench, work / "report" / "report.html")
    (work / "tmp").mkdir()
    (work / "driver.mjs").write_text(DRIVER)
    env = {**os.environ, "TMPDIR": str(work / "tmp"), "VIEW_W": str(VIEWPORT[0]), "VIEW_H": str(VIEWPORT[1])}
    try:
        proc = subprocess.run(["node", str(work / "driver.mjs"), str(ROOT), report.resolve().as_uri(), str(work),
                               str(work / "profile")], capture_output=True, text=True, timeout=240, env=env)
    finally:  # the extracted browser (~250 MB) and its profile; the report and screenshots stay
        shutil.rmtree(work / "tmp", ignore_errors=True)
        shutil.rmtree(work / "profile", ignore_errors=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), work


def test_a_real_chromium_rendered_it(layout):
    facts, work = layout
    assert facts["browser"].startswith("HeadlessChrome/")
    for shot in ("report-first-screen.png", "report-full.png"):
        assert (work / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_horizontal_scrolling(layout):
    facts, _ = layout
    assert facts["innerWidth"] == VIEWPORT[0]
    assert facts["scrollWidth"] <= facts["innerWidth"]


def test_the_page_uses_the_window(layout):
    facts, _ = layout
    assert facts["column"] >= facts["innerWidth"] - 2 * 32 - 1, "the page's column is narrower than the window"
    wide = [t for t in facts["tables"] if not t["fit"]]
    assert len(wide) >= 4 and all(t["right"] - t["left"] >= facts["column"] - 1 for t in wide), wide


def test_every_table_fits_the_window(layout):
    facts, _ = layout
    assert len(facts["tables"]) >= 8
    for table in facts["tables"]:
        assert table["rows"] >= 2
        assert 0 <= table["left"] and table["right"] <= facts["innerWidth"], table
        assert table["boxScroll"] <= table["boxClient"], f"a table scrolls inside its box: {table}"


def test_every_plot_loaded_and_fits_the_page(layout):
    facts, _ = layout
    assert len(facts["images"]) == 4
    for image in facts["images"]:
        assert image["complete"] and image["natural"] > 0, image
        assert image["width"] <= facts["column"] and image["right"] <= facts["innerWidth"], image
        assert image["width"] == image["natural"], f"the plot is scaled, so its text shrinks: {image}"


def test_text_stays_in_its_cell(layout):
    facts, _ = layout
    assert facts["spilled"] == []
    assert facts["wrapped"] == [], "numbers and identifiers must stay on one line"


def test_long_identifiers_are_shortened_with_the_full_value_kept(layout):
    facts, _ = layout
    assert facts["titled"] and all(title == LONG_ID for _, title in facts["titled"])
    for shown, _ in facts["titled"]:
        assert len(shown) < len(LONG_ID) and shown.startswith(LONG_ID[:10]) and shown.endswith(LONG_ID[-6:])


def test_the_schedule_and_dollar_tables_are_in_the_page(layout):
    _, work = layout
    text = (work / "report" / "report.html").read_text()
    assert "The same transactions on Shanghai, Prague and Osaka" in text and "EIP-7623 floor 21,000 + 10 x" in text
    assert "Dollars per verified inference" in text and "Arbitrum, USD per inference" in text
    assert "ModExp repriced (EIP-7883)" in text and "unexplained" not in text
