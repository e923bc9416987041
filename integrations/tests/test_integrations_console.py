"""Console pages of the integrations app through Django's test client: list,
create/edit with inline errors, detail (URL and token for admins only, last
requests and alerts, hostile text escaped), token rotation and deletion
behind confirmations; external alerts in the alert log."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from alerting.models import Alert
from integrations.models import InboundDelivery, Integration
from statuspage.models import AuditEntry

from .helpers import am_alert, am_group, make_integration, payload, post

pytestmark = pytest.mark.django_db
XSS = "<script>alert('pwn')</script>"


def as_user(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(admin_user: Any) -> Client:
    return as_user(admin_user)


@pytest.fixture
def viewer(viewer_user: Any) -> Client:
    return as_user(viewer_user)


def test_nav_links_to_integrations(viewer: Client) -> None:
    page = viewer.get(reverse("integrations:list")).content.decode()
    assert f'href="{reverse("integrations:list")}" aria-current="page">Integrations<' in page


def test_empty_list_says_what_to_do(admin: Client, viewer: Client) -> None:
    assert "Create one" in admin.get(reverse("integrations:list")).content.decode()
    page = viewer.get(reverse("integrations:list")).content.decode()
    assert "An admin can connect" in page and "New integration" not in page


def test_list_filters_and_counts_open_alerts(admin: Client, client: Client) -> None:
    am = make_integration("alertmanager", name="Alpha")
    splunk = make_integration("splunk", name="Beta", is_active=False)
    post(client, "alertmanager", am_group(am_alert("a"), am_alert("b")), token=am.token)
    page = admin.get(reverse("integrations:list")).content.decode()
    assert f'data-integration="{am.pk}"' in page and f'data-integration="{splunk.pk}"' in page
    assert "✕</span> 2" in page
    page = admin.get(reverse("integrations:list"), {"active": "0"}).content.decode()
    assert f'data-integration="{splunk.pk}"' in page and f'data-integration="{am.pk}"' not in page
    page = admin.get(reverse("integrations:list"), {"source": "grafana"}).content.decode()
    assert "No integrations match these filters" in page
    # Invalid filters are ignored, not a 500.
    assert (
        admin.get(reverse("integrations:list"), {"source": "<x>", "page": "x"}).status_code == 200
    )


def test_the_form_offers_every_source(admin: Client) -> None:
    page = admin.get(reverse("integrations:create")).content.decode()
    for value in ("grafana", "alertmanager", "datadog", "netdata", "pagerduty", "splunk"):
        assert f'<option value="{value}"' in page
    assert "Remove the current secret" not in page  # only when editing


def test_create_then_the_detail_shows_url_and_token(admin: Client, settings: Any) -> None:
    settings.SITE_URL = "https://status.example.com"
    response = admin.post(
        reverse("integrations:create"),
        {"name": "Grafana prod", "source": "grafana", "min_severity": "warning", "is_active": "on"},
    )
    integration = Integration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:detail", args=[integration.pk])
    page = admin.get(response["Location"]).content.decode()
    assert f"https://status.example.com/api/grafana/alerts?token={integration.token}" in page
    assert f'id="integration-token">{integration.token}<' in page
    assert integration.is_active and integration.quiet_resolve_minutes == 0
    assert AuditEntry.objects.get().action == "created"


def test_splunk_created_with_an_empty_quiet_period_gets_60(admin: Client) -> None:
    admin.post(
        reverse("integrations:create"),
        {
            "name": "Splunk",
            "source": "splunk",
            "min_severity": "warning",
            "quiet_resolve_minutes": "",
        },
    )
    assert Integration.objects.get().quiet_resolve_minutes == 60


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "source": "grafana"}, "name"),
        ({"name": "x", "source": "nagios"}, "source"),
        (
            {"name": "x", "source": "grafana", "quiet_resolve_minutes": "-5"},
            "quiet_resolve_minutes",
        ),
        (
            {"name": "x", "source": "grafana", "quiet_resolve_minutes": "1e9"},
            "quiet_resolve_minutes",
        ),
        ({"name": "x", "source": "grafana", "secret": "s" * 600}, "secret"),
        ({"name": "Taken", "source": "grafana"}, "name"),
    ],
)
def test_errors_are_shown_next_to_the_field(admin: Client, data: dict, field: str) -> None:
    make_integration(name="taken")
    response = admin.post(reverse("integrations:create"), {"min_severity": "warning", **data})
    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-field="{field}"' in page
    assert f'<div class="field has-error" data-field="{field}">' in page
    assert Integration.objects.count() == 1


def test_html_in_names_and_alerts_is_escaped(admin: Client, client: Client) -> None:
    integration = make_integration("alertmanager", name=f"Prom {XSS}")
    alert = am_alert("x", summary=XSS, service=XSS)
    post(client, "alertmanager", am_group(alert), token=integration.token)
    for url in (
        reverse("integrations:list"),
        reverse("integrations:detail", args=[integration.pk]),
        reverse("alerting:log"),
    ):
        page = admin.get(url).content.decode()
        assert XSS not in page, url
        assert "&lt;script&gt;alert(&#x27;pwn&#x27;)&lt;/script&gt;" in page, url


def test_viewers_see_no_token_and_no_actions(viewer: Client) -> None:
    integration = make_integration("grafana")
    page = viewer.get(reverse("integrations:detail", args=[integration.pk])).content.decode()
    assert integration.token not in page
    assert "/api/grafana/alerts" in page and "Only admins see the token" in page
    assert reverse("integrations:edit", args=[integration.pk]) not in page
    for name in ("edit", "rotate", "delete"):
        url = reverse(f"integrations:{name}", args=[integration.pk])
        assert viewer.get(url).status_code == 403
        assert viewer.post(url).status_code == 403
    assert viewer.get(reverse("integrations:create")).status_code == 403
    Integration.objects.get(token=integration.token)  # unchanged


def test_anonymous_users_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("integrations:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_detail_lists_requests_and_alerts(admin: Client, client: Client) -> None:
    integration = make_integration("netdata")
    post(client, "netdata", payload("netdata_test"), token=integration.token)
    post(client, "netdata", payload("netdata_critical"), token=integration.token)
    page = admin.get(reverse("integrations:detail", args=[integration.pk])).content.decode()
    assert "Netdata verification token: nd-verify-5f0c3c1e8a7b4d2e9f1a6b3c7d8e9f00" in page
    assert ">test<" in page and "1 alert" in page
    alert = Alert.objects.get()
    assert f'data-alert="{alert.pk}"' in page
    assert "1 open" in page


def test_jenkins_detail_lists_deployments(admin: Client, client: Client) -> None:
    integration = make_integration("jenkins")
    post(client, "jenkins", payload("jenkins_failed"), token=integration.token)
    page = admin.get(reverse("integrations:detail", args=[integration.pk])).content.decode()
    assert "Latest deployments" in page and 'data-result="failure"' in page and "1.4.2" in page


def test_edit_keeps_the_secret_unless_cleared(admin: Client) -> None:
    integration = make_integration("pagerduty", secret="keep-me")
    url = reverse("integrations:edit", args=[integration.pk])
    form = admin.get(url).content.decode()
    assert "keep-me" not in form and "one is set" in form
    base = {
        "name": "PD",
        "source": "datadog",
        "min_severity": "critical",
        "quiet_resolve_minutes": "5",
    }
    assert admin.post(url, base).status_code == 302
    integration.refresh_from_db()
    assert integration.secret == "keep-me" and integration.name == "PD"
    assert integration.source == "pagerduty"  # the source field is disabled
    assert integration.quiet_resolve_minutes == 5 and not integration.is_active
    admin.post(url, {**base, "secret": "new-one"})
    integration.refresh_from_db()
    assert integration.secret == "new-one"
    admin.post(url, {**base, "clear_secret": "on"})
    integration.refresh_from_db()
    assert integration.secret == ""


def test_rotate_is_confirmed_then_changes_the_token(admin: Client) -> None:
    integration = make_integration()
    url = reverse("integrations:rotate", args=[integration.pk])
    page = admin.get(url).content.decode()
    assert "stop working at once" in page and 'class="btn btn-danger"' in page
    assert Integration.objects.get().token == integration.token  # GET changes nothing
    response = admin.post(url)
    assert response.status_code == 302
    assert Integration.objects.get().token != integration.token


def test_delete_is_confirmed_then_removes(admin: Client, client: Client) -> None:
    integration = make_integration()
    post(client, "alertmanager", am_group(am_alert("a")), token=integration.token)
    url = reverse("integrations:delete", args=[integration.pk])
    page = admin.get(url).content.decode()
    assert "1 alert" in page and "cannot be undone" in page
    assert Integration.objects.exists()
    response = admin.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("integrations:list")
    assert not Integration.objects.exists() and not InboundDelivery.objects.exists()


def test_unknown_integration_is_404(admin: Client) -> None:
    assert admin.get(reverse("integrations:detail", args=[424242])).status_code == 404


def test_alert_log_renders_external_alerts(admin: Client, client: Client) -> None:
    integration = make_integration("alertmanager", name="Prom")
    post(
        client, "alertmanager", am_group(am_alert("a", service="checkout")), token=integration.token
    )
    page = admin.get(reverse("alerting:log")).content.decode()
    assert 'data-source="alertmanager"' in page
    assert "HighLatency on checkout" in page
    assert reverse("integrations:detail", args=[integration.pk]) in page
    assert '<span class="chip">checkout</span>' in page
