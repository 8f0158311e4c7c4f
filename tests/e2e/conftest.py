"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

Without chromium they skip with a clear message, except under CI (CI set to anything but "", "0" or "false"), where they fail: a
green CI run must mean the pages were really driven. Screenshots of every page at a laptop and a
phone size land in test-artifacts/screenshots/, and one more whenever a test fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ci_env import in_ci

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = os.environ.get("COBRO_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        message = f"chromium not found at {CHROMIUM}: install it (scripts/ensure-chromium.sh) to run e2e tests"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                                    args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        for name, page in getattr(item, "_cobro_pages", {}).items():
            try:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{item.name}-{name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a dead page must not hide the real failure
                pass
    return report


@pytest.fixture
def open_page(request, browser, live_server):
    """``open_page("laptop")`` → a fresh signed-out page at that viewport, pointed at the live server."""
    contexts = []
    request.node._cobro_pages = {}

    def _open(viewport: str = "laptop", locale: str = "es-CL"):
        context = browser.new_context(viewport=VIEWPORTS[viewport], locale=locale, base_url=live_server.url)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        request.node._cobro_pages[viewport] = page
        return page

    yield _open
    for context in contexts:
        context.close()


def _shot(page, name: str, viewport: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{viewport}.png"), full_page=False)


@pytest.fixture
def shot():
    return _shot


@pytest.fixture
def demo(transactional_db):
    """A small demo organization built by the same code as `cobro demo` (every app's part)."""
    import importlib

    from cobro.ledger.demo import DEMO_PASSWORD, ensure_demo
    from cobro.ledger.management.commands.demo import DEMO_APPS
    from cobro.ledger.models import Organization
    from cobro.workspace.views import org_today

    today = org_today(Organization(timezone="America/Santiago"))
    org, _created = ensure_demo(today, customers=40)
    for app in DEMO_APPS:
        try:
            module = importlib.import_module(f"cobro.{app}.demo")
        except ModuleNotFoundError:
            continue
        module.populate(org, today)
    return type("Demo", (), {"org": org, "today": today, "password": DEMO_PASSWORD})()


def _sign_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/today/")


@pytest.fixture
def sign_in():
    return _sign_in


#: The elements that stick out of the viewport without a scrolling box of their own to hold them.
OVERFLOWING = """() => {
  const width = window.innerWidth, out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    let p = el.parentElement, held = false;
    while (p) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)
          && p.getBoundingClientRect().right <= width + 1) { held = true; break; }
      p = p.parentElement;
    }
    if (!held) out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
  }
  return out.slice(0, 5);
}"""
