"""Every committed case report and the index, opened in a real headless Chromium (Debian's, driven by its
chromedriver through Selenium; nothing is downloaded): no console errors, no broken images, every
figure and link inside the reports present. A screenshot of each report goes to pytest's temporary directory
(``screenshots/<case>.png`` under ``--basetemp`` when given), never into the tree.

Skipped, with the reason, when Chromium or chromedriver is not installed (``.ci/run`` installs them)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from crmlib.params import list_cases, load_params

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CASES = list_cases(ROOT / "params")

pytestmark = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                                reason="Debian's chromium and chromium-driver are not installed "
                                       "(apt-get install chromium chromium-driver fonts-noto-cjk)")


@pytest.fixture(scope="module")
def browser():
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="crmlib-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                 f"--user-data-dir={profile}", "--window-size=1280,2000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path) -> list[dict]:
    """Load a local page and return the console messages of level SEVERE."""
    driver.get_log("browser")  # drop messages of earlier pages
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _broken_images(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
        ".map(i => i.alt || i.src.slice(0, 60));")


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots", numbered=False)


@pytest.mark.parametrize("case", CASES)
def test_case_report_renders_without_errors(browser, screenshots, case):
    page = ROOT / "reports" / case / "report.html"
    assert page.is_file(), f"{page} missing: run `make reproduce`"
    errors = _open(browser, page)
    assert errors == [], errors
    assert _broken_images(browser) == []
    images = browser.execute_script("return document.images.length")
    figures = len(list((ROOT / "reports" / case / "figures").glob("*.png")))
    assert images == figures > 0
    params = load_params(ROOT / "params" / f"{case}.yaml")
    title = params.title_en if params.report.lang == "en" else params.title_zh
    assert browser.find_element("tag name", "h1").text == title
    external = browser.execute_script(
        "return Array.from(document.querySelectorAll('[src]')).map(e => e.getAttribute('src'))"
        ".filter(s => !s.startsWith('data:'));")
    assert external == []  # self-contained: every image is embedded
    assert browser.save_screenshot(str(screenshots / f"{case}.png"))


def test_index_lists_every_case_and_its_links_resolve(browser):
    page = ROOT / "reports" / "index.html"
    assert _open(browser, page) == []
    links = browser.execute_script("return Array.from(document.links).map(a => a.getAttribute('href'));")
    assert sorted(links) == sorted(f"{case}/report.html" for case in CASES)
    assert all((page.parent / link).is_file() for link in links)


def test_the_checks_catch_a_broken_page(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<img src="missing.png" alt="missing figure"><script>console.error("boom")</script>'
                    '</body></html>', encoding="utf-8")
    errors = _open(browser, page)
    assert any("boom" in e["message"] for e in errors)
    assert any("missing.png" in e["message"] for e in errors)
    assert _broken_images(browser) == ["missing figure"]
