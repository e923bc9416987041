"""Operational API (v1), read-only: problem candidates and queue health.

* ``GET /problem-candidates?type=&limit=``: ``incidents.problems`` (viewer);
* ``GET /evaluation-jobs/summary``: counts per kind of work (operator);
* ``GET /evaluation-jobs/failed?kind=&limit=``: failed or stuck jobs with their
  last error, newest first (operator).

Bad parameters are a 400 naming them; ``limit`` is 1..500 (default 100).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import OPERATOR, VIEWER
from incidents.ops_selectors import KINDS, candidates, failed_jobs, jobs_summary
from incidents.problems import TYPES

MAX_LIMIT = 500
DEFAULT_LIMIT = 100


class _Query(serializers.Serializer):
    limit = serializers.IntegerField(
        required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT
    )


class CandidateQuery(_Query):
    type = serializers.ChoiceField(choices=TYPES, required=False)


class FailedQuery(_Query):
    kind = serializers.ChoiceField(choices=KINDS, required=False)


class ProblemCandidateSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TYPES)
    service = serializers.CharField(allow_null=True, help_text="Service slug, or null.")
    service_name = serializers.CharField(allow_null=True)
    subject = serializers.CharField(help_text="The service's name, else the title grouped on.")
    count = serializers.IntegerField()
    incidents = serializers.ListField(child=serializers.CharField())
    alerts = serializers.ListField(child=serializers.IntegerField())
    first_at = serializers.DateTimeField()
    last_at = serializers.DateTimeField()
    reason = serializers.CharField()


class FailedJobSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS)
    id = serializers.CharField()
    status = serializers.CharField()
    at = serializers.DateTimeField()
    attempts = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    subject = serializers.CharField()


def _params(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class ProblemCandidatesView(APIView):
    read_role = VIEWER

    @extend_schema(
        parameters=[
            OpenApiParameter("type", OpenApiTypes.STR, enum=list(TYPES)),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 500 (default 100)."),
        ],
        responses=ProblemCandidateSerializer(many=True),
        summary="Problem candidates (computed, newest first)",
    )
    def get(self, request: Request) -> Response:
        params = _params(CandidateQuery, request)
        rows = candidates(timezone.now())
        if "type" in params:
            rows = [c for c in rows if c.type == params["type"]]
        return Response(ProblemCandidateSerializer(rows[: params["limit"]], many=True).data)


class JobsSummaryView(APIView):
    read_role = OPERATOR

    @extend_schema(
        responses=inline_serializer(
            "EvaluationJobsSummary",
            {
                "generated_at": serializers.DateTimeField(),
                "checks": serializers.DictField(),
                "correlation": serializers.DictField(),
                "deliveries": serializers.DictField(),
            },
        ),
        summary="Queue health: checks, correlation, deliveries (operator)",
    )
    def get(self, request: Request) -> Response:
        return Response(jobs_summary(timezone.now()))


class FailedJobsView(APIView):
    read_role = OPERATOR

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(KINDS)),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 500 (default 100)."),
        ],
        responses=FailedJobSerializer(many=True),
        summary="Failed or stuck jobs with their last error, newest first (operator)",
    )
    def get(self, request: Request) -> Response:
        params = _params(FailedQuery, request)
        rows = failed_jobs(timezone.now(), kind=params.get("kind"), limit=params["limit"])
        return Response(FailedJobSerializer(rows, many=True).data)
