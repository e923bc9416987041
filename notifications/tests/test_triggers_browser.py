"""The trigger editor in a real headless Chromium against the live server: a
bad URL and a template that breaks JSON are refused next to their fields,
the default template is there to edit, "Send test" shows the receiver's
status code and body through htmx without a reload, and the test shows up
in the deliveries list."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from monitors.tests.servers import Reply, Request, serve_http
from notifications.models import Delivery, Trigger
from statuspage.tests.browser import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin(transactional_db: None) -> User:
    return User.objects.create_user(username="admin", password=PASSWORD, role="admin")


def sign_in(page: Page) -> None:
    page.goto("/console/triggers/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=re.compile("^Triggers"))).to_be_visible()


def test_create_a_webhook_trigger_and_send_a_test(page: Page, admin: User) -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(202, '{"queued": true}')}, record=got) as base:
        sign_in(page)
        expect(page.get_by_text("No triggers yet")).to_be_visible()
        page.get_by_role("link", name="Create trigger").click()
        page.locator('[data-kind="webhook"]').click()
        expect(page.get_by_role("heading", name="New Webhook trigger")).to_be_visible()
        body = page.get_by_label("Body (JSON)")
        expect(body).to_have_value(re.compile(r'"alert_name": "\{\{alert_name\}\}"'))

        page.get_by_label("Name").fill("Ops <hook>")
        page.get_by_label("URL").fill("ftp://example.test/hook")
        body.fill('{"text": {{alert_name}}}')
        page.get_by_role("button", name="Create trigger").click()
        expect(page.locator('[data-field="url"] .errors')).to_contain_text("http")
        expect(page.locator('[data-field="template_body"] .errors')).to_contain_text(
            "does not render valid JSON"
        )
        assert not Trigger.objects.exists()

        page.get_by_label("URL").fill(f"{base}/hook")
        body.fill('{"text": "{{alert_name}} is {{alert_status}}"}')
        page.get_by_role("button", name="Create trigger").click()
        expect(page.get_by_role("heading", name="Ops <hook>")).to_be_visible()

        page.evaluate("window.__noReload = 'still here'")
        page.get_by_role("button", name="Send test").click()
        expect(page.locator("#test-result [data-status-code]")).to_have_text("202")
        expect(page.locator("#test-result [data-response-body]")).to_have_text('{"queued": true}')
        assert page.evaluate("window.__noReload") == "still here"
    assert len(got) == 1
    assert got[0].body == b'{"text": "Example API STATUS: DOWN is TRIGGERED"}'
    delivery = Delivery.objects.get()
    page.get_by_role("link", name=f"delivery #{delivery.pk}").click()
    expect(page.get_by_role("heading", name=re.compile(f"Delivery #{delivery.pk}"))).to_be_visible()
    expect(page.locator('[data-try="1"]')).to_contain_text("202")
    page.get_by_role("link", name="Deliveries", exact=True).first.click()
    expect(page.locator(f'[data-delivery="{delivery.pk}"]')).to_contain_text("Test")
