"""The triggers API: CRUD with roles, strict validation with hostile input
(each error names its field), write-only secrets, audit rows, "send test"
against a real receiver, and alert rules taking ``triggers`` as ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitors.tests.factories import make_monitor
from monitors.tests.servers import Reply, Request, serve_http
from notifications.models import Delivery, Notification, Trigger
from statuspage.models import AuditEntry

from .trigger_helpers import make_trigger

pytestmark = pytest.mark.django_db

HOOK = {"url": "https://example.test/hook"}


@pytest.fixture
def admin(admin_user, api_client_for):
    return api_client_for(admin_user)


def post(client, data: Any):
    return client.post("/api/v1/triggers", data, format="json")


def test_create_read_update_delete(admin) -> None:
    response = post(
        admin,
        {
            "name": "Ops hook",
            "kind": "webhook",
            "config": {**HOOK, "method": "PUT", "headers": {"X-Team": "ops"}},
            "templates": {"body": '{"t": "{{alert_name}}"}'},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Ops hook" and body["is_active"] is True and body["rules"] == []
    assert body["config"] == {**HOOK, "method": "PUT", "headers": {"X-Team": "ops"}}
    assert body["templates"] == {"body": '{"t": "{{alert_name}}"}'}
    pk = body["id"]
    assert admin.get(f"/api/v1/triggers/{pk}").json()["name"] == "Ops hook"
    assert admin.get("/api/v1/triggers?kind=webhook").json()["count"] == 1
    assert admin.get("/api/v1/triggers?kind=slack").json()["count"] == 0
    response = admin.patch(f"/api/v1/triggers/{pk}", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert response.json()["templates"] == {"body": '{"t": "{{alert_name}}"}'}  # kept
    assert admin.get("/api/v1/triggers?is_active=false").json()["count"] == 1
    assert admin.delete(f"/api/v1/triggers/{pk}").status_code == 204
    assert not Trigger.objects.exists()
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["created", "updated", "deleted"]


def test_a_default_template_is_stored_as_nothing(admin) -> None:
    from notifications.notifiers.webhook import DEFAULT_BODY

    response = post(
        admin, {"name": "d", "kind": "webhook", "config": HOOK, "templates": {"body": DEFAULT_BODY}}
    )
    assert response.json()["templates"] == {}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"kind": "webhook", "config": HOOK}, "name", "This field is required."),
        ({"name": "  ", "kind": "webhook", "config": HOOK}, "name", "may not be blank"),
        ({"name": "x" * 101, "kind": "webhook", "config": HOOK}, "name", "At most 100"),
        ({"name": "a\u202eb", "kind": "webhook", "config": HOOK}, "name", "control"),
        ({"name": 5, "kind": "webhook", "config": HOOK}, "name", "Must be a string"),
        ({"name": "n", "kind": "sms", "config": HOOK}, "kind", "not a valid choice"),
        ({"name": "n", "kind": "webhook"}, "config", "This field is required"),
        ({"name": "n", "kind": "webhook", "config": []}, "config", "JSON object"),
        ({"name": "n", "kind": "webhook", "config": {"url": "ftp://x"}}, "config", "http"),
        ({"name": "n", "kind": "webhook", "config": {"url": "http://"}}, "config", "host"),
        ({"name": "n", "kind": "webhook", "config": {"url": "http://a b"}}, "config", "spaces"),
        (
            {"name": "n", "kind": "webhook", "config": {"url": "https://x/" + "a" * 3000}},
            "config",
            "no more than 2048",
        ),
        (
            {"name": "n", "kind": "webhook", "config": {**HOOK, "method": "DELETE"}},
            "config",
            "valid",
        ),
        (
            {"name": "n", "kind": "webhook", "config": {**HOOK, "headers": {"Bad Name": "x"}}},
            "config",
            "not a valid header name",
        ),
        (
            {"name": "n", "kind": "webhook", "config": {**HOOK, "headers": {"X-A": "a\r\nB: c"}}},
            "config",
            "one line",
        ),
        (
            {
                "name": "n",
                "kind": "webhook",
                "config": {**HOOK, "headers": {"X-Beacon-Delivery": "1"}},
            },
            "config",
            "set by Beacon",
        ),
        (
            {"name": "n", "kind": "webhook", "config": {**HOOK, "headers": {"X-A": 1}}},
            "config",
            "Must be a string",
        ),
        ({"name": "n", "kind": "webhook", "config": {**HOOK, "extra": 1}}, "config", "Unknown"),
        (
            {"name": "n", "kind": "email", "config": {"recipients": ["not-an-address"]}},
            "config",
            "not a valid email",
        ),
        (
            {"name": "n", "kind": "email", "config": {"recipients": ["a@x.test", "A@x.test"]}},
            "config",
            "listed twice",
        ),
        (
            {
                "name": "n",
                "kind": "email",
                "config": {"recipients": [f"a{i}@x.test" for i in range(51)]},
            },
            "config",
            "no more than 50",
        ),
        (
            {
                "name": "n",
                "kind": "webhook",
                "config": HOOK,
                "templates": {"body": '{"a": {{alert_name}}}'},
            },
            "templates",
            "valid JSON",
        ),
        (
            {"name": "n", "kind": "webhook", "config": HOOK, "templates": {"subject": "x"}},
            "templates",
            "Unknown template",
        ),
        (
            {"name": "n", "kind": "webhook", "config": HOOK, "templates": {"body": 3}},
            "templates",
            "Must be text",
        ),
        (
            {
                "name": "n",
                "kind": "email",
                "config": {"recipients": ["a@x.test"]},
                "templates": {"html": "<p>{{{alert_name}}}</p>"},
            },
            "templates",
            "HTML escaping",
        ),
        (
            {"name": "n", "kind": "webhook", "config": HOOK, "is_active": "yes"},
            "is_active",
            "true or false",
        ),
        ({"name": "n", "kind": "webhook", "config": HOOK, "owner": "me"}, "owner", "Unknown field"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(admin, payload, field, message) -> None:
    response = post(admin, payload)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert message in json.dumps(errors[field], ensure_ascii=False), errors
    assert not Trigger.objects.exists()


def test_duplicate_names_are_refused(admin) -> None:
    assert post(admin, {"name": "Ops", "kind": "webhook", "config": HOOK}).status_code == 201
    response = post(admin, {"name": " ops ", "kind": "webhook", "config": HOOK})
    assert response.status_code == 400
    assert response.json()["name"] == ["A trigger with this name already exists."]


def test_html_and_unicode_names_are_kept_as_text(admin) -> None:
    name = "<script>alert(1)</script> 🚨 Ünï"
    response = post(admin, {"name": name, "kind": "webhook", "config": HOOK})
    assert response.status_code == 201 and response.json()["name"] == name


def test_non_json_and_oversized_bodies_are_refused(admin) -> None:
    response = admin.post("/api/v1/triggers", "name=x", content_type="text/plain")
    assert response.status_code == 415
    huge = {"name": "n", "kind": "webhook", "config": HOOK, "templates": {"body": "x" * 3_000_000}}
    assert post(admin, huge).status_code in (400, 413)


def test_secrets_are_write_only(admin) -> None:
    response = post(
        admin,
        {
            "name": "signed",
            "kind": "webhook",
            "config": {
                **HOOK,
                "secret": "s3cret",
                "headers": {"Authorization": "Bearer t", "X-A": "b"},
            },
        },
    )
    body = response.json()
    assert body["config"]["secret"] == "••••••••"
    assert body["config"]["headers"] == {"Authorization": "••••••••", "X-A": "b"}
    assert "s3cret" not in response.content.decode()
    pk = body["id"]
    # Sending back what was read keeps the secrets; a new value replaces them.
    response = admin.patch(
        f"/api/v1/triggers/{pk}", {"config": {**body["config"], "method": "PUT"}}, format="json"
    )
    assert response.status_code == 200
    stored = Trigger.objects.get(pk=pk).config
    assert stored["secret"] == "s3cret" and stored["headers"]["Authorization"] == "Bearer t"
    assert stored["method"] == "PUT"
    admin.patch(f"/api/v1/triggers/{pk}", {"config": {**HOOK, "secret": "new"}}, format="json")
    assert Trigger.objects.get(pk=pk).config == {
        **HOOK,
        "method": "POST",
        "headers": {},
        "secret": "new",
    }
    audit = json.dumps(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert "s3cret" not in audit and "Bearer t" not in audit and '"new"' not in audit


def test_chat_webhook_urls_are_masked(admin) -> None:
    response = post(
        admin,
        {
            "name": "s",
            "kind": "slack",
            "config": {"url": "https://hooks.slack.test/services/T/B/xyz"},
        },
    )
    assert response.json()["config"] == {"url": "https://hooks.slack.test/••••••••"}


def test_roles(viewer_user, operator_user, api_client_for, admin) -> None:
    pk = make_trigger("webhook").pk
    viewer = api_client_for(viewer_user)
    operator = api_client_for(operator_user)
    assert viewer.get("/api/v1/triggers").status_code == 200
    assert viewer.get(f"/api/v1/triggers/{pk}").status_code == 200
    for client in (viewer, operator):
        assert post(client, {"name": "x", "kind": "webhook", "config": HOOK}).status_code == 403
        assert client.patch(f"/api/v1/triggers/{pk}", {}, format="json").status_code == 403
        assert client.delete(f"/api/v1/triggers/{pk}").status_code == 403
        assert client.post(f"/api/v1/triggers/{pk}/test").status_code == 403
    assert api_client_for(None).get("/api/v1/triggers").status_code in (401, 403)


def test_send_test_returns_the_receivers_answer_and_is_recorded(admin) -> None:
    got: list[Request] = []
    with serve_http({"/hook": Reply(418, '{"error": "teapot"}')}, record=got) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook"}, is_active=False)
        response = admin.post(f"/api/v1/triggers/{trigger.pk}/test")
    assert response.status_code == 200
    result = response.json()
    assert result["ok"] is False and result["status_code"] == 418
    assert result["body"] == '{"error": "teapot"}'
    assert result["error"] == "HTTP 418 I'm a Teapot"
    assert result["duration_ms"] > 0
    body = json.loads(got[0].body)
    assert body["alert_name"] == "Example API STATUS: DOWN" and body["is_triggered"] is True
    delivery = Delivery.objects.get(pk=result["delivery_id"])
    assert got[0].headers["x-beacon-delivery"] == str(delivery.pk)
    assert delivery.notification.event == "test"
    assert (delivery.status, delivery.attempts) == ("failed", 1)  # a test is tried once
    assert Notification.objects.get().planned_at is not None


def test_send_test_success(admin) -> None:
    with serve_http({"/hook": Reply(200, "thanks")}) as base:
        trigger = make_trigger("webhook", {"url": f"{base}/hook"})
        result = admin.post(f"/api/v1/triggers/{trigger.pk}/test").json()
    assert (result["ok"], result["status_code"], result["body"]) == (True, 200, "thanks")


def test_alert_rules_take_triggers_as_ids(admin) -> None:
    make_monitor(tag="api")
    a, b = make_trigger("webhook"), make_trigger("slack", {"url": "https://hooks.slack.test/x"})
    rule = {"monitors": ["api"], "kind": "STATUS", "value": "DOWN", "triggers": [b.pk, a.pk]}
    response = admin.post("/api/v1/alert-rules", rule, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["triggers"] == sorted([a.pk, b.pk])
    pk = response.json()["id"]
    assert admin.get(f"/api/v1/triggers/{a.pk}").json()["rules"] == [pk]
    # A PATCH without triggers keeps them; with [] removes them.
    admin.patch(f"/api/v1/alert-rules/{pk}", {"severity": "WARNING"}, format="json")
    assert admin.get(f"/api/v1/alert-rules/{pk}").json()["triggers"] == sorted([a.pk, b.pk])
    response = admin.patch(f"/api/v1/alert-rules/{pk}", {"triggers": []}, format="json")
    assert response.json()["triggers"] == []
    changes = AuditEntry.objects.filter(action="updated", object_type="alerting.AlertRule")
    assert changes.order_by("id").last().changes["triggers"] == [sorted([a.pk, b.pk]), []]


@pytest.mark.parametrize(
    ("triggers", "message"),
    [
        ([999999], "No trigger has the id(s) [999999]"),
        (["1"], "whole numbers"),
        ([True], "whole numbers"),
        ([1.5], "whole numbers"),
        ([2**70], "whole numbers"),
        ("1", "list"),
        ([{"id": 1}], "whole numbers"),
    ],
)
def test_rule_triggers_are_validated(admin, triggers, message) -> None:
    make_monitor(tag="api")
    rule = {"monitors": ["api"], "kind": "STATUS", "value": "DOWN", "triggers": triggers}
    response = admin.post("/api/v1/alert-rules", rule, format="json")
    assert response.status_code == 400
    assert message in json.dumps(response.json()["triggers"])


def test_rule_triggers_listed_twice(admin) -> None:
    make_monitor(tag="api")
    pk = make_trigger("webhook").pk
    rule = {"monitors": ["api"], "kind": "STATUS", "value": "DOWN", "triggers": [pk, pk]}
    response = admin.post("/api/v1/alert-rules", rule, format="json")
    assert response.status_code == 400
    assert "more than once" in response.json()["triggers"][0]
