"""Assign and escalate in a real headless Chromium (Playwright): an operator takes
an incident with "Assign to me", hands it to someone else with the select, and
escalates through the dialog (a trigger ticked, a note, a higher severity);
the header, the facts and the timeline follow.

Skipped without ``/usr/bin/chromium`` unless ``CI=true``. No sleeps: every
wait is on a selector or a URL.
"""

from __future__ import annotations

import os
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from incidents import services
from incidents.models import Incident
from notifications.models import Delivery
from notifications.tests.trigger_helpers import make_trigger
from statuspage.tests.browser import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_assigns_and_escalates(page: Page, transactional_db: None) -> None:
    User.objects.create_user(username="oper", password=PASSWORD, role="operator")
    User.objects.create_user(username="alice", password=None, role="admin")
    pager = make_trigger(name="DB on-call pager", config={"url": "http://127.0.0.1:9/hook"})
    make_trigger(name="Leadership email", kind="webhook")
    incident = services.create_incident(
        title="Checkout failing", body="Investigating.", severity="WARNING", now=timezone.now()
    )
    url = f"/console/incidents/{incident.pk}/"
    page.goto(url)
    page.get_by_label("Username").fill("oper")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/console/incidents/{incident.pk}/$"))

    header = page.locator("#assignee")
    page.get_by_role("button", name="Assign to me").click()
    expect(page.get_by_text(f"{incident.key} assigned to oper.")).to_be_visible()
    expect(header.get_by_label("Assigned to")).to_have_value(
        str(User.objects.get(username="oper").pk)
    )
    expect(page.get_by_role("button", name="Assign to me")).to_have_count(0)

    header.get_by_label("Assigned to").select_option(label="alice")
    header.get_by_role("button", name="Save").click()
    expect(page.get_by_text(f"{incident.key} assigned to alice.")).to_be_visible()
    expect(page.locator("#assignee-fact")).to_contain_text("alice")
    expect(page.locator('.timeline li[data-type="Assigned"]').last).to_contain_text(
        "assigned to alice (was oper)"
    )

    page.get_by_role("link", name="Escalate…").click()
    dialog = page.locator("#escalate-dialog")
    expect(dialog).to_be_visible()
    if os.environ.get("BEACON_SCREENSHOTS"):
        page.screenshot(path=os.environ["BEACON_SCREENSHOTS"] + "/escalate-dialog.png")
    dialog.get_by_label("DB on-call pager (Webhook)").check()
    dialog.get_by_label("Why escalate").fill("EU checkout down; <need> the DB on-call.")
    dialog.get_by_label("Severity").select_option("CRITICAL")
    dialog.get_by_role("button", name="Escalate and notify").click()
    expect(page.get_by_text(f"{incident.key} escalated: 1 trigger notified.")).to_be_visible()
    expect(page.locator('.timeline li[data-type="Escalated"]')).to_contain_text(
        "EU checkout down; <need> the DB on-call."
    )
    expect(page.locator(".pagehead .sub")).to_contain_text("Critical")
    if os.environ.get("BEACON_SCREENSHOTS"):
        page.screenshot(path=os.environ["BEACON_SCREENSHOTS"] + "/incident.png", full_page=True)

    incident = Incident.objects.get(pk=incident.pk)
    assert incident.severity == "CRITICAL" and incident.assignee.username == "alice"
    assert list(Delivery.objects.values_list("trigger_id", flat=True)) == [pager.pk]
