"""CloudBees CI deployments: builds reported to ``/api/cloudbees/deployment``.

CloudBees CI is Jenkins (https://docs.cloudbees.com/docs/cloudbees-ci/latest/),
so its controllers send what Jenkins sends: the Notification plugin body,
the Outbound WebHook plugin body (https://docs.cloudbees.com/plugins/ci/outbound-webhook)
or the deployment JSON from a pipeline ``post`` step. The three formats, and
what Beacon reads from them, are described in ``integrations.sources.jenkins``.
A separate source keeps CloudBees deployments apart from plain Jenkins ones
(``source`` is ``cloudbees``) with an integration, token and endpoint of
their own. No signature scheme; the token goes in the URL.
"""

from __future__ import annotations

from .base import register
from .jenkins import JenkinsSource


@register
class CloudBeesSource(JenkinsSource):
    name = "cloudbees"
    label = "CloudBees CI"
    endpoint = "/api/cloudbees/deployment"
