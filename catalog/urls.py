"""Console routes of the service catalogue, mounted at /console/services/."""

from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.service_list, name="list"),
    path("new/", views.service_create, name="create"),
    path("<slug:slug>/", views.service_detail, name="detail"),
    path("<slug:slug>/edit/", views.service_edit, name="edit"),
    path("<slug:slug>/delete/", views.service_delete, name="delete"),
]
