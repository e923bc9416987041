"""API v1 routes of the incidents app; the trailing slash is optional everywhere."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .views import IncidentViewSet, MaintenanceWindowViewSet
from .views_ops import FailedJobsView, JobsSummaryView, ProblemCandidatesView

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("incidents", IncidentViewSet, basename="incident")
router.register("maintenance-windows", MaintenanceWindowViewSet, basename="maintenance-window")

urlpatterns = [
    *router.urls,
    re_path(r"^problem-candidates/?$", ProblemCandidatesView.as_view(), name="problem-candidates"),
    re_path(
        r"^evaluation-jobs/summary/?$", JobsSummaryView.as_view(), name="evaluation-jobs-summary"
    ),
    re_path(r"^evaluation-jobs/failed/?$", FailedJobsView.as_view(), name="evaluation-jobs-failed"),
]
