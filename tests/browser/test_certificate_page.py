"""The certificate page a privacy officer reads, in headless Chromium, on a phone, a laptop and paper.

A release of the shipped Adult example on a named dataset that already holds one release, made
by the command line: its certificate (and the custodian annex) must not scroll sideways at 390
and 1280 px; printed to PDF, the first page must hold the verdict, the lifetime spend and the
start of the privacy statement (a page left two-thirds empty pushes them to page 2); attack
parameters are collapsed tables; every risk row reads on its own. Marked ``browser`` like
:mod:`tests.browser.test_pages`, whose Chromium fixture and page check it uses.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.test_pages import _dpsynth, _missing, _QuietHandler, browser, check_page, screenshots

pytestmark = pytest.mark.browser
__all__ = ["browser", "screenshots"]  # fixtures used by name below

WIDTHS = (390, 1280)
PAGES = ("release/certificate.html", "release.custodian/annex.html")


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """A folder holding ``first`` (epsilon 0.5, no audit) and ``release`` (epsilon 1, quick audit)."""
    root = tmp_path_factory.mktemp("certificate")
    common = ("--example", "adult", "--dataset", "adult-example", "--seed", "0")
    _dpsynth("release", *common, "--epsilon", "0.5", "--audit", "off", "--out", "first", cwd=root)
    _dpsynth("release", *common, "--epsilon", "1", "--audit", "quick", "--out", "release", cwd=root)
    return root


@pytest.fixture(scope="module")
def base_url(released: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(released))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("name", "width"), [(name, width) for name in PAGES for width in WIDTHS])
def test_no_sideways_scroll_on_a_phone_or_a_laptop(browser, base_url, screenshots, name, width):
    shot = screenshots / f"certificate-page-{Path(name).stem}-{width}.png"
    check_page(browser, f"{base_url}/{name}", width, shot)


def _pdf(browser, url: str, path: Path) -> Path:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(url, wait_until="networkidle")
        page.pdf(path=str(path), format="A4")
    finally:
        context.close()
    return path


def test_the_first_printed_page_holds_the_verdict_and_the_privacy_block(browser, base_url, tmp_path, screenshots):
    try:
        from pypdf import PdfReader
    except ImportError:
        _missing("pypdf is not installed (pip install -e '.[docs]')")
    pdf = _pdf(browser, f"{base_url}/release/certificate.html", screenshots / "certificate.pdf")
    # NFKC turns the PDF's ligatures (fi, ff) back into letters.
    pages = [" ".join(unicodedata.normalize("NFKC", page.extract_text()).split()) for page in PdfReader(pdf).pages]
    first = pages[0]
    assert re.search(r"Release certificate: (PASS|FAIL)", first)
    assert "lifetime spend" in first and "over 2 releases on this dataset" in first
    assert "Privacy statement" in first and "differentially private" in first
    # The first page is full: it holds at least as much text as the median page.
    lengths = sorted(len(text) for text in pages)
    assert len(first) >= lengths[len(lengths) // 2], [len(text) for text in pages]


def test_parameters_are_collapsed_tables_and_each_risk_row_reads_on_its_own(browser, base_url):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{base_url}/release/certificate.html", wait_until="networkidle")
        parameters = page.locator("details", has=page.locator("summary", has_text="Parameters of these attacks"))
        assert parameters.count() == 2
        first = parameters.first
        assert not first.evaluate("d => d.open") and not first.locator("table").is_visible()
        first.locator("summary").click()
        assert first.locator("table").is_visible() and "{" not in first.inner_text()
        risks = page.locator("#singling-out-linkage-and-inference table").filter(has_text="reading").first
        readings = risks.locator("tbody tr td:last-child").all_inner_texts()
        assert readings and all(text.startswith("Measures whether") for text in readings)
        assert all(re.search(r"passes|FAILS|does not decide", text) for text in readings)
    finally:
        context.close()
