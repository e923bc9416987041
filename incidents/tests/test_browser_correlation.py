"""The correlated incident in a real headless Chromium (Playwright): an
operator reads the services panel (primary service, dependencies), opens the
Investigation tab (a plain link: works without JavaScript), associates a
service, moves an alert in, and walks the catalogue from the nav link to a
service and back to the incident. No sleeps: every wait is on a selector or URL.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import User
from alerting.correlation_services import process_alerts
from catalog.tests.factories import chain, external_alert, make_integration, make_service
from incidents.investigation_services import run_investigation
from incidents.models import Incident
from statuspage.tests.browser import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_works_a_correlated_incident(page: Page, transactional_db: None) -> None:
    User.objects.create_user(username="oper", password=PASSWORD, role="operator")
    now = timezone.now()
    web, api, dbs = chain("web", "api", "db")
    make_service("billing", name="Billing <Ledger>")
    integration = make_integration("grafana", source="grafana", min_severity="info")
    first = external_alert(integration, now - timedelta(minutes=3), service=api, title="API 5xx")
    second = external_alert(integration, now - timedelta(minutes=2), service=dbs, title="DB down")
    strict = make_integration("strict", min_severity="critical")
    stray = external_alert(strict, now, title="Stray alert", severity="INFO")
    process_alerts([first.pk, second.pk, stray.pk], now)
    incident = Incident.objects.get()
    run_investigation(incident.pk, now=now)

    page.goto(f"/console/incidents/{incident.pk}/")
    page.get_by_label("Username").fill("oper")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(rf"/console/incidents/{incident.pk}/$"))

    services = page.locator("#services")
    expect(services.locator('[data-service="db"]')).to_contain_text("Primary")
    expect(services.locator('[data-service="api"]')).to_contain_text("depends on")
    expect(page.locator("#alerts")).to_contain_text("API 5xx")

    # The Investigation tab is a link: the summary is server-rendered.
    page.get_by_role("link", name=re.compile("^Investigation")).click()
    expect(page).to_have_url(re.compile(r"\?tab=investigation#investigation$"))
    expect(page.locator("#investigation h4").first).to_have_text("Affected services")
    expect(page.locator("#investigation")).to_contain_text("None found.")

    # Associate a service; its name is shown as text, not HTML.
    page.goto(f"/console/incidents/{incident.pk}/")
    page.get_by_label("Add a service").select_option("billing")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text(f"associated with {incident.key}")).to_be_visible()
    expect(services.locator('[data-service="billing"]')).to_contain_text("Billing <Ledger>")

    # Move the stray alert in by its number.
    page.get_by_label("Move an alert here").fill(str(stray.pk))
    page.get_by_role("button", name="Move here").click()
    expect(page.get_by_text(f"Alert #{stray.pk} moved into {incident.key}.")).to_be_visible()
    expect(page.locator(f'#alerts [data-alert="{stray.pk}"]')).to_contain_text("Stray alert")

    # The catalogue from the nav, then back to the incident.
    page.get_by_role("navigation", name="Console").get_by_role(
        "link", name="Services", exact=True
    ).click()
    expect(page).to_have_url(re.compile(r"/console/services/$"))
    page.get_by_role("link", name="Db", exact=True).click()
    expect(page.locator("#downstream-title")).to_be_visible()
    expect(page.get_by_role("link", name=incident.key)).to_be_visible()
    page.get_by_role("link", name=incident.key).click()
    expect(page).to_have_url(re.compile(rf"/console/incidents/{incident.pk}/$"))
    assert web.pk
