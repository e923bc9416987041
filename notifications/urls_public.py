"""Public subscriber pages (namespace ``subscribe``), included at the site root.

``subscribe:form`` is the page the status page links to.
"""

from django.urls import path

from . import views_public as views

app_name = "subscribe"
urlpatterns = [
    path("subscribe", views.subscribe, name="form"),
    path("subscribe/sent", views.sent, name="sent"),
    path("subscribe/confirm/<str:signed>", views.confirm, name="confirm"),
    path("subscriptions/<str:token>", views.manage, name="manage"),
    path("unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
