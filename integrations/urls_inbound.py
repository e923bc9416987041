"""Inbound webhook routes, mounted at /api/: one path per vendor, as the
vendors' own documentation (and the Aurora seed) spell them."""

from django.urls import path

from .views_inbound import inbound

ENDPOINTS = {
    "grafana": "grafana/alerts",
    "alertmanager": "alertmanager/alerts",
    "datadog": "datadog/webhook",
    "netdata": "netdata/alerts",
    "pagerduty": "pagerduty/webhook",
    "splunk": "splunk/alerts",
    "jenkins": "jenkins/deployment",
    "cloudbees": "cloudbees/deployment",
    "dynatrace": "dynatrace/problems",
    "bigpanda": "bigpanda/webhook",
    "generic": "generic/alerts",
}

urlpatterns = [
    path(route, inbound, {"source": source}, name=f"inbound-{source}")
    for source, route in ENDPOINTS.items()
]
