"""``Authorization: Bearer <token>`` for the API, on DRF's token table."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """DRF's TokenAuthentication with the conventional ``Bearer`` keyword."""

    keyword = "Bearer"
