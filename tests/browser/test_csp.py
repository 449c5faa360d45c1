"""The Content-Security-Policy really holds in a browser: only nonced scripts from 'self' run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

INJECT_INLINE_SCRIPT = """() => new Promise(resolve => {
    const seen = [];
    document.addEventListener("securitypolicyviolation", event => {
        seen.push({directive: event.effectiveDirective, blocked: event.blockedURI,
                   disposition: event.disposition});
    });
    const script = document.createElement("script");
    script.textContent = "window.__injected = true;";
    document.body.appendChild(script);
    const img = document.createElement("img");
    img.setAttribute("src", "data:image/gif;base64,R0lGODlhAQABAAAAACw=");
    img.setAttribute("onload", "window.__handler = true;");
    document.body.appendChild(img);
    setTimeout(() => resolve({seen, injected: window.__injected === true,
                              handler: window.__handler === true}), 500);
})"""


@pytest.mark.parametrize("path", ["/sign-in", "/privacy", "/no-such-page"])
def test_every_script_on_the_page_carries_the_nonce(page: Page, path):
    page.goto(path)
    assert page.evaluate("document.querySelectorAll('script:not([nonce])').length") == 0
    assert page.evaluate("document.querySelectorAll('script[nonce]').length") >= 1
    # The nonced module really ran (GOV.UK Frontend marks the body when it starts).
    assert page.evaluate("document.body.classList.contains('govuk-frontend-supported')")


def test_an_injected_inline_script_and_handler_are_blocked_and_reported(page: Page, console):
    page.goto("/sign-in")
    outcome = page.evaluate(INJECT_INLINE_SCRIPT)
    assert outcome["injected"] is False, "an inline script injected into the DOM ran"
    assert outcome["handler"] is False, "an inline event handler ran"
    directives = {seen["directive"] for seen in outcome["seen"]}
    assert {"script-src-elem", "script-src-attr"} <= directives, outcome
    assert all(seen["blocked"] == "inline" and seen["disposition"] == "enforce"
               for seen in outcome["seen"]), outcome
    assert any("Content Security Policy" in text for text in console.errors)


def test_a_script_from_another_origin_is_refused(page: Page):
    page.goto("/sign-in")
    outcome = page.evaluate("""() => new Promise(resolve => {
        document.addEventListener("securitypolicyviolation",
            event => resolve(event.effectiveDirective + " " + event.blockedURI));
        const script = document.createElement("script");
        script.src = "http://127.0.0.2:9/evil.js";
        document.body.appendChild(script);
    })""")
    assert outcome == "script-src-elem http://127.0.0.2:9/evil.js"
