"""API v1 routes of the integrations app; the trailing slash is optional everywhere."""

from rest_framework.routers import SimpleRouter

from .views import DeploymentViewSet, IntegrationViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("integrations", IntegrationViewSet, basename="integration")
router.register("deployments", DeploymentViewSet, basename="deployment")

urlpatterns = router.urls
