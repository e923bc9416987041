"""The incident page in a real headless Chromium (Playwright): an operator
opens an incident made by ``incidents.services.create_incident``, writes an
update with the Markdown preview rendered live through htmx, acknowledges with
the ``a`` key and resolves through the dialog with a classification.

Skipped without ``/usr/bin/chromium`` unless ``CI=true``. No sleeps: every
wait is on a selector or a URL.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from incidents import services
from incidents.models import Incident, State
from monitors.tests.factories import make_monitor
from statuspage.tests.browser import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_updates_acknowledges_and_resolves(page: Page, transactional_db: None) -> None:
    User.objects.create_user(username="oper", password=PASSWORD, role="operator")
    monitor = make_monitor(name="Payment API", tag="pay")
    incident = services.create_incident(
        title="Payments failing",
        body="Investigating errors.",
        now=timezone.now(),
        monitors=[(monitor, "DOWN")],
    )
    url = f"/console/incidents/{incident.pk}/"
    page.goto(url)
    page.get_by_label("Username").fill("oper")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/console/incidents/{incident.pk}/$"))
    expect(page.get_by_role("heading", name="Payments failing")).to_be_visible()
    expect(page.locator(".affected")).to_contain_text("Payment API")

    # The preview follows the text through htmx, without a reload.
    page.evaluate("window.__noReload = 'still here'")
    page.get_by_role("textbox", name="Update").fill("Root cause: **database** failover.")
    expect(page.locator("#preview strong")).to_have_text("database")
    page.locator("#update-form").get_by_label("State").select_option("IDENTIFIED")
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_text("Update posted.")).to_be_visible()
    expect(page.locator("#incident-state")).to_contain_text("Identified")
    expect(page.locator(".updates .markdown strong").first).to_have_text("database")

    # "a" acknowledges on an incident page.
    page.evaluate("window.__noReload = 'still here'")
    page.locator("body").press("a")
    expect(page.get_by_text(f"{incident.key} acknowledged.")).to_be_visible()
    expect(page.locator("#ack-fact")).to_contain_text("by oper")
    incident.refresh_from_db()
    assert incident.acknowledged_at is not None

    # Resolve through the dialog with a classification.
    page.get_by_role("link", name=re.compile("Resolve")).click()
    dialog = page.locator("dialog#resolve-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Classification").select_option("Resolved")
    dialog.get_by_label("Resolution note").fill("Failover finished, errors gone.")
    dialog.get_by_role("button", name="Resolve incident").click()
    expect(page.get_by_text(f"{incident.key} resolved.")).to_be_visible()
    expect(page.locator("#incident-state")).to_contain_text("Resolved")
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.state == State.RESOLVED
    assert incident.resolution_classification == "Resolved"

    # g i goes to the incidents list.
    page.locator("body").press("g")
    page.locator("body").press("i")
    expect(page).to_have_url(re.compile(r"/console/incidents/$"))
    expect(page.locator("table.incidents tbody tr")).to_have_count(1)
