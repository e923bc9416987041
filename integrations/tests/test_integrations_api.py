"""``/api/v1/integrations`` and ``/api/v1/deployments``: roles, validation,
the masked secret, the admin-only token, rotation, deletion and audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from alerting.models import Alert
from catalog.models import Service
from integrations.models import Deployment, Integration
from statuspage.models import AuditEntry

from .helpers import T0, am_alert, am_group, make_integration, post

pytestmark = pytest.mark.django_db
URL = "/api/v1/integrations"


@pytest.fixture
def admin(api_client_for: Any, admin_user: Any) -> Any:
    return api_client_for(admin_user)


@pytest.fixture
def viewer(api_client_for: Any, viewer_user: Any) -> Any:
    return api_client_for(viewer_user)


@pytest.fixture
def operator(api_client_for: Any, operator_user: Any) -> Any:
    return api_client_for(operator_user)


def test_create_gives_a_token_and_a_ready_url(admin: Any, settings: Any) -> None:
    settings.SITE_URL = "https://status.example.com"
    response = admin.post(URL, {"name": "Prod Grafana", "source": "grafana"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    integration = Integration.objects.get()
    assert data["token"] == integration.token and len(integration.token) >= 40
    assert data["url"] == f"https://status.example.com/api/grafana/alerts?token={integration.token}"
    assert data["endpoint"] == "https://status.example.com/api/grafana/alerts"
    assert data["secret"] == "" and data["quiet_resolve_minutes"] == 0
    assert data["min_severity"] == "warning" and data["is_active"] is True
    entry = AuditEntry.objects.get()
    assert entry.action == "created" and entry.object_id == str(integration.pk)
    assert "secret" not in entry.changes and "token" not in entry.changes


def test_the_url_works_as_given(admin: Any, client: Any) -> None:
    data = admin.post(URL, {"name": "AM", "source": "alertmanager"}, format="json").json()
    path = data["url"].split("://", 1)[1].split("/", 1)[1]
    response = client.post(
        "/" + path, data=am_group(am_alert("a")), content_type="application/json"
    )
    assert response.status_code == 202


def test_splunk_gets_a_quiet_period_by_default(admin: Any) -> None:
    data = admin.post(URL, {"name": "Splunk", "source": "splunk"}, format="json").json()
    assert data["quiet_resolve_minutes"] == 60 and data["sends_resolve"] is False


def test_secret_is_write_only_and_masked(admin: Any) -> None:
    created = admin.post(
        URL, {"name": "PD", "source": "pagerduty", "secret": "s3cr3t"}, format="json"
    ).json()
    assert created["secret"] == "********"
    integration = Integration.objects.get()
    assert integration.secret == "s3cr3t"
    # Echoing a read back keeps the secret.
    again = admin.patch(f"{URL}/{integration.pk}", created | {"token": "x"}, format="json")
    assert again.status_code == 200, again.content
    integration.refresh_from_db()
    assert integration.secret == "s3cr3t"
    admin.patch(f"{URL}/{integration.pk}", {"secret": "new"}, format="json")
    integration.refresh_from_db()
    assert integration.secret == "new"
    update = AuditEntry.objects.filter(action="updated").get()
    assert update.changes == {"secret": ["(hidden)", "(changed)"]}
    assert "new" not in str(update.changes)


def test_viewers_read_without_the_token(viewer: Any) -> None:
    integration = make_integration("grafana", secret="x")
    data = viewer.get(f"{URL}/{integration.pk}").json()
    assert data["token"] is None and "token=" not in data["url"]
    assert data["secret"] == "********"
    listed = viewer.get(URL).json()
    assert listed["count"] == 1 and listed["results"][0]["token"] is None


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_only_admins_change_integrations(request: Any, who: str) -> None:
    client = request.getfixturevalue(who)
    integration = make_integration()
    assert client.post(URL, {"name": "x", "source": "grafana"}, format="json").status_code == 403
    assert client.patch(f"{URL}/{integration.pk}", {"name": "y"}, format="json").status_code == 403
    assert client.delete(f"{URL}/{integration.pk}").status_code == 403
    assert client.post(f"{URL}/{integration.pk}/rotate-token").status_code == 403
    assert Integration.objects.get().name == integration.name


def test_anonymous_is_refused(api_client_for: Any) -> None:
    assert api_client_for(None).get(URL).status_code in (401, 403)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "grafana"}, "name"),
        ({"name": "", "source": "grafana"}, "name"),
        ({"name": "x" * 101, "source": "grafana"}, "name"),
        ({"name": "bad\x00name", "source": "grafana"}, "name"),
        ({"name": "tab\tname", "source": "grafana"}, "name"),
        ({"name": "x"}, "source"),
        ({"name": "x", "source": "nagios"}, "source"),
        ({"name": "x", "source": ["grafana"]}, "source"),
        ({"name": "x", "source": "grafana", "quiet_resolve_minutes": -1}, "quiet_resolve_minutes"),
        (
            {"name": "x", "source": "grafana", "quiet_resolve_minutes": 10**9},
            "quiet_resolve_minutes",
        ),
        (
            {"name": "x", "source": "grafana", "quiet_resolve_minutes": "soon"},
            "quiet_resolve_minutes",
        ),
        ({"name": "x", "source": "grafana", "min_severity": "CRITICAL!"}, "min_severity"),
        ({"name": "x", "source": "grafana", "is_active": "maybe"}, "is_active"),
        ({"name": "x", "source": "grafana", "secret": "s" * 501}, "secret"),
        ({"name": "x", "source": "grafana", "secret": "a\x07b"}, "secret"),
        ({"name": "x", "source": "grafana", "colour": "red"}, "colour"),
        ({"name": "x", "source": "grafana", "token": "mine"}, None),  # read-only: ignored
    ],
)
def test_bad_input_is_400_naming_the_field(admin: Any, body: dict, field: str | None) -> None:
    response = admin.post(URL, body, format="json")
    if field is None:
        assert response.status_code == 201
        assert response.json()["token"] != "mine"
        return
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Integration.objects.exists() and not AuditEntry.objects.exists()


def test_names_are_unique_case_insensitively(admin: Any) -> None:
    make_integration(name="Prod Grafana")
    response = admin.post(URL, {"name": "prod grafana", "source": "grafana"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_unicode_and_html_names_are_kept(admin: Any) -> None:
    name = "<b>Grafana</b> 監視 🚨"
    response = admin.post(URL, {"name": name, "source": "grafana"}, format="json")
    assert response.status_code == 201 and response.json()["name"] == name


def test_the_source_cannot_change(admin: Any) -> None:
    integration = make_integration("grafana")
    response = admin.patch(f"{URL}/{integration.pk}", {"source": "datadog"}, format="json")
    assert response.status_code == 400 and "source" in response.json()
    same = admin.patch(f"{URL}/{integration.pk}", {"source": "grafana"}, format="json")
    assert same.status_code == 200


def test_patch_changes_only_what_is_sent_and_is_audited(admin: Any) -> None:
    integration = make_integration("grafana", secret="keep", quiet_resolve_minutes=7)
    response = admin.patch(
        f"{URL}/{integration.pk}", {"is_active": False, "min_severity": "critical"}, format="json"
    )
    assert response.status_code == 200
    integration.refresh_from_db()
    assert not integration.is_active and integration.min_severity == "critical"
    assert integration.secret == "keep" and integration.quiet_resolve_minutes == 7
    entry = AuditEntry.objects.get()
    assert entry.changes == {"is_active": [True, False], "min_severity": ["warning", "critical"]}


def test_rotate_token_invalidates_the_old_url(admin: Any, client: Any) -> None:
    integration = make_integration()
    old = integration.token
    response = admin.post(f"{URL}/{integration.pk}/rotate-token")
    assert response.status_code == 200
    new = response.json()["token"]
    assert new != old and Integration.objects.get().token == new
    body = am_group(am_alert("a"))
    assert post(client, "alertmanager", body, token=old).status_code == 401
    assert post(client, "alertmanager", body, token=new).status_code == 202
    assert AuditEntry.objects.get().changes == {"token": ["(old)", "(rotated)"]}


def test_delete_removes_the_alerts_and_is_audited(admin: Any, client: Any) -> None:
    integration = make_integration()
    post(client, "alertmanager", am_group(am_alert("a")), token=integration.token)
    assert admin.delete(f"{URL}/{integration.pk}").status_code == 204
    assert not Integration.objects.exists() and not Alert.objects.exists()
    assert AuditEntry.objects.get().action == "deleted"
    assert admin.get(f"{URL}/{integration.pk}").status_code == 404


def test_list_filters_by_source(viewer: Any) -> None:
    make_integration("grafana")
    make_integration("splunk")
    data = viewer.get(URL, {"source": "splunk"}).json()
    assert [r["source"] for r in data["results"]] == ["splunk"]
    assert viewer.get(URL, {"source": "nagios"}).status_code == 400


# --- deployments -------------------------------------------------------------------


def _deployment(integration: Integration, external_id: str, **fields: Any) -> Deployment:
    fields.setdefault("received_at", T0)
    fields.setdefault("result", "success")
    return Deployment.objects.create(
        integration=integration, source="jenkins", external_id=external_id, **fields
    )


def test_deployments_list_and_filters(viewer: Any) -> None:
    jenkins = make_integration("jenkins")
    checkout = Service.objects.create(name="Checkout", slug="checkout")
    a = _deployment(
        jenkins, "a#1", service=checkout, environment="production", started_at=T0, result="failure"
    )
    _deployment(jenkins, "b#1", environment="staging", started_at=T0 - timedelta(days=1))
    c = _deployment(jenkins, "c#1", received_at=T0 + timedelta(hours=1))  # no start time
    url = "/api/v1/deployments"
    data = viewer.get(url).json()
    assert data["count"] == 3 and data["results"][0]["id"] == c.pk
    assert [d["id"] for d in viewer.get(url, {"service": "checkout"}).json()["results"]] == [a.pk]
    assert [d["id"] for d in viewer.get(url, {"result": "failure"}).json()["results"]] == [a.pk]
    staged = viewer.get(url, {"environment": "staging"}).json()["results"]
    assert [d["external_id"] for d in staged] == ["b#1"]
    recent = viewer.get(url, {"from": (T0 - timedelta(hours=1)).isoformat()}).json()["results"]
    assert {d["id"] for d in recent} == {a.pk, c.pk}
    detail = viewer.get(f"{url}/{a.pk}").json()
    assert detail["service"] == "checkout" and "raw" in detail


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"service": "nope"}, "service"),
        ({"result": "exploded"}, "result"),
        ({"integration": "abc"}, "integration"),
        ({"integration": 99999}, "integration"),
        ({"from": "yesterday"}, "from"),
        ({"from": "2025-03-02T00:00:00Z", "to": "2025-03-01T00:00:00Z"}, "from"),
    ],
)
def test_deployment_filters_are_validated(viewer: Any, params: dict, field: str) -> None:
    response = viewer.get("/api/v1/deployments", params)
    assert response.status_code == 400 and field in response.json()


def test_deployments_are_read_only(admin: Any) -> None:
    assert admin.post("/api/v1/deployments", {}, format="json").status_code == 405
