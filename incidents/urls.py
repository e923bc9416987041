"""Console routes of the incidents app, mounted at /console/incidents/."""

from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("preview/", views.markdown_preview, name="preview"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/update/", views.incident_update, name="update"),
    path("<int:pk>/acknowledge/", views.incident_acknowledge, name="acknowledge"),
    path("<int:pk>/resolve/", views.incident_resolve, name="resolve"),
    path("<int:pk>/reopen/", views.incident_reopen, name="reopen"),
    path("<int:pk>/assign/", views.incident_assign, name="assign"),
    path("<int:pk>/escalate/", views.incident_escalate, name="escalate"),
    path("<int:pk>/edit/", views.incident_edit, name="edit"),
    path("<int:pk>/delete/", views.incident_delete, name="delete"),
    path("<int:pk>/services/add/", views.incident_service_add, name="service_add"),
    path(
        "<int:pk>/services/<slug:slug>/remove/",
        views.incident_service_remove,
        name="service_remove",
    ),
    path("<int:pk>/merge-alert/", views.incident_merge_alert, name="merge_alert"),
    path("<int:pk>/merge/", views.incident_merge, name="merge"),
    path("<int:pk>/investigate/", views.incident_investigate, name="investigate"),
]
