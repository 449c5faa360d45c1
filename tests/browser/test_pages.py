"""Every page type that exists today, in a real browser: content, axe-core and screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import check_accessibility, screenshot, sign_in

STATIC_PAGES = [
    ("/accessibility", "Accessibility statement for"),
    ("/privacy", "Privacy notice: reports of anti-social behaviour"),
    ("/cookies", "Cookies"),
]


@pytest.mark.parametrize(("path", "heading"), STATIC_PAGES)
def test_static_pages_are_reachable_from_the_footer_and_accessible(page: Page, artifacts,
                                                                   console, path, heading):
    page.goto("/sign-in")
    footer = page.get_by_role("contentinfo")
    with page.expect_navigation():
        footer.locator(f'a[href="{path}"]').click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    name = f"page{path.replace('/', '-')}"
    check_accessibility(page, name, artifacts)
    screenshot(page, name, artifacts)
    assert console.unexpected() == []


def test_the_cookies_page_names_the_session_cookie(page: Page):
    page.goto("/cookies")
    expect(page.get_by_role("main")).to_contain_text("asb_session")


def test_a_page_that_does_not_exist_is_a_404_page(page: Page, artifacts, console):
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found")).to_be_visible()
    expect(page.get_by_text("Error code 404")).to_be_visible()
    assert page.title().startswith("Page not found – ")
    check_accessibility(page, "error-404", artifacts)
    screenshot(page, "error-404", artifacts)
    assert console.unexpected() == []


def test_a_page_of_another_role_is_a_403_page_with_a_way_home(page: Page, artifacts):
    sign_in(page, "olivia.officer")
    response = page.goto("/admin")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1,
                            name="You do not have permission to see this page")).to_be_visible()
    home = page.get_by_role("link", name="Go to your home page")
    check_accessibility(page, "error-403", artifacts)
    screenshot(page, "error-403", artifacts)
    with page.expect_navigation():
        home.click()
    expect(page.get_by_role("heading", level=1, name="Inbox")).to_be_visible()


def test_a_get_of_a_post_only_address_is_a_405_page(page: Page, artifacts):
    response = page.goto("/sign-out")
    assert response is not None and response.status == 405
    expect(page.get_by_role("heading", level=1,
                            name="Sorry, that action is not possible here")).to_be_visible()
    check_accessibility(page, "error-405", artifacts)


def test_a_form_with_a_forged_token_is_a_400_page(page: Page, artifacts):
    page.goto("/sign-in")
    page.locator('input[name="csrf_token"]').evaluate("el => { el.value = 'forged'; }")
    page.get_by_label("User name", exact=True).fill("olivia.officer")
    page.get_by_label("Password", exact=True).fill("correct horse battery staple")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1,
                            name="Sorry, there is a problem with your request")).to_be_visible()
    expect(page.get_by_text("Your form could not be checked")).to_be_visible()
    check_accessibility(page, "error-400", artifacts)
    screenshot(page, "error-400", artifacts)
    page.goto("/inbox")  # the refused form signed nobody in
    expect(page.get_by_role("heading", level=1, name="Sign in")).to_be_visible()


@pytest.mark.parametrize(("name", "landing", "heading"), [
    ("olivia.officer", "/inbox", "Inbox"),
    ("pat.owner", "/diagrams", "Process diagrams"),
    ("mina.manager", "/dashboard", "Dashboard"),
    ("ada.admin", "/admin", "Administration"),
])
def test_each_role_lands_on_an_accessible_workspace(page: Page, artifacts, console, name,
                                                    landing, heading):
    sign_in(page, name)
    assert page.url.endswith(landing)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_accessibility(page, f"workspace-{landing.strip('/')}", artifacts)
    screenshot(page, f"workspace-{landing.strip('/')}", artifacts)
    assert console.unexpected() == []
