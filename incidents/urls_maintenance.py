"""Console routes for maintenance windows, mounted at /console/maintenance/."""

from django.urls import path

from . import views_maintenance as views

app_name = "maintenance"
urlpatterns = [
    path("", views.maintenance_list, name="list"),
    path("new/", views.maintenance_create, name="create"),
    path("preview/", views.maintenance_preview, name="preview"),
    path("<int:pk>/", views.maintenance_detail, name="detail"),
    path("<int:pk>/edit/", views.maintenance_edit, name="edit"),
    path("<int:pk>/delete/", views.maintenance_delete, name="delete"),
]
