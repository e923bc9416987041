"""Console routes of the monitors app, mounted at /console/."""

from django.urls import path

from . import views

app_name = "monitors"
urlpatterns = [
    path("", views.console_home, name="home"),
    path("monitors/", views.monitor_list, name="list"),
    path("monitors/new/", views.monitor_create, name="create"),
    path("monitors/<str:tag>/", views.monitor_detail, name="detail"),
    path("monitors/<str:tag>/edit/", views.monitor_edit, name="edit"),
    path("monitors/<str:tag>/check/", views.monitor_check, name="check"),
    path("monitors/<str:tag>/active/", views.monitor_toggle, name="toggle"),
    path("monitors/<str:tag>/delete/", views.monitor_delete, name="delete"),
]
