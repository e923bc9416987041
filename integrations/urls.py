"""Console routes of the integrations app, mounted at /console/integrations/."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.integration_list, name="list"),
    path("new/", views.integration_create, name="create"),
    path("<int:pk>/", views.integration_detail, name="detail"),
    path("<int:pk>/edit/", views.integration_edit, name="edit"),
    path("<int:pk>/rotate-token/", views.integration_rotate, name="rotate"),
    path("<int:pk>/delete/", views.integration_delete, name="delete"),
]
