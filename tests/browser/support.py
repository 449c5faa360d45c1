"""Helpers for the browser tests: keyboard sign-in, axe-core checks and screenshots."""

from __future__ import annotations

import json
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

PASSWORD = "correct horse battery staple"
BLOCKING_IMPACTS = ("serious", "critical")
# axe-core ships inside axe-playwright-python (no download at test time); it is injected with
# page.evaluate, which the page's CSP does not govern, so the page itself stays unchanged.
_AXE = Axe()


def tab_to(page: Page, selector: str, limit: int = 25) -> int:
    """Press Tab until ``selector`` has the focus; return how many presses it took."""
    target = page.locator(selector)
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    raise AssertionError(f"{selector} never took the focus in {limit} presses of Tab")


def sign_in_by_keyboard(page: Page, name: str, password: str = PASSWORD) -> None:
    """Sign in with the keyboard alone, as a person who cannot use a mouse would."""
    page.goto("/sign-in")
    tab_to(page, "#user_name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """Sign in by filling the form (for tests about what comes after)."""
    page.goto("/sign-in")
    page.get_by_label("User name", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def check_accessibility(page: Page, name: str, artifacts: Path) -> None:
    """Run axe-core on the page; fail on any serious or critical violation, listing them."""
    results = _AXE.run(page, options={"resultTypes": ["violations"]})
    violations = results.response["violations"]
    (artifacts / f"{name}.axe.json").write_text(json.dumps(violations, indent=2))
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe-core on {page.url}:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n    "
        + "\n    ".join(f"{', '.join(map(str, n['target']))}: {n['html'][:160]}"
                        for n in v["nodes"])
        for v in blocking)


def screenshot(page: Page, name: str, artifacts: Path) -> Path:
    """Save a full-page screenshot under the artifacts folder."""
    path = artifacts / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0
    return path
