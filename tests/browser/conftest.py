"""Browser tests: Playwright (Python) driving Debian's Chromium against pytest-django's live server, with
axe-core (vendored from npm by `make assets`) checking every page they visit for WCAG 2.2 A/AA problems."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Response, sync_playwright  # noqa: E402

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE_SOURCE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser-deps` (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


def watched_page(browser: Browser, base_url: str, viewport: dict[str, int] | None = None) -> Iterator[Page]:
    """A page in its own browser context (its own cookies) that fails the test on any JavaScript, CSP or
    console error, and on any alert() (typed-in HTML running as script). Except Chromium's "Failed to load
    resource: ... 400/404" about the page itself: forms with mistakes answer 400 and dead links 404 on purpose.
    A missing script, style or image still fails."""
    context = browser.new_context(viewport=viewport or DESKTOP, base_url=base_url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    documents: set[str] = set()
    errors: list[str] = []

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document" and response.status in (400, 404, 409, 429):
            documents.add(response.url)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        if msg.text.startswith("Failed to load resource") and msg.location.get("url") in documents:
            return
        errors.append(msg.text)

    def on_dialog(dialog: Dialog) -> None:
        errors.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript or CSP errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser, live_server) -> Iterator[Page]:
    yield from watched_page(browser, live_server.url)


@pytest.fixture
def second_page(browser: Browser, live_server) -> Iterator[Page]:
    """Another person at another computer: a separate browser context, so separate cookies."""
    yield from watched_page(browser, live_server.url)


def assert_accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.2 A/AA violation on the page as it is now."""
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]
    assert problems == [], "\n".join(problems)


def assert_fits_a_phone(page: Page) -> None:
    """At 375 px wide nothing makes the page scroll sideways."""
    original = page.viewport_size
    page.set_viewport_size(PHONE)
    page.reload()  # as a phone would load it: the header script lays out its menu on load
    try:
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at phone width"
        assert_accessible(page)
    finally:
        page.set_viewport_size(original or DESKTOP)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the form, then give the code from the person's authenticator app when asked (the
    enrolment itself is tested in test_two_factor_journey.py; here the person already has an app)."""
    from linkwork.accounts.models import User
    from tests.conftest import current_totp, totp_device

    device = totp_device(User.objects.get(email__iexact=email))
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    if "/accounts/two-factor/" in page.url:
        page.get_by_label("Security code").fill(current_totp(device))
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()
