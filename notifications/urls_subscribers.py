"""Console routes of subscribers, mounted at /console/subscribers/."""

from django.urls import path

from . import views_subscribers as views

app_name = "subscribers"
urlpatterns = [
    path("", views.subscriber_list, name="list"),
    path("export.csv", views.subscriber_export, name="export"),
    path("webhooks/new/", views.webhook_create, name="webhook-create"),
    path("<int:pk>/", views.subscriber_detail, name="detail"),
    path("<int:pk>/edit/", views.subscriber_edit, name="edit"),
    path("<int:pk>/remove/", views.subscriber_remove, name="remove"),
]
