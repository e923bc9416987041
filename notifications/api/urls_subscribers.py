"""API v1 routes of subscribers; the trailing slash is optional."""

from rest_framework.routers import SimpleRouter

from .subscribers import SubscriberViewSet

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("subscribers", SubscriberViewSet, basename="subscriber")

urlpatterns = router.urls
