"""The public pages for people (namespace ``public``), included at the site
root after the machine side (``urls_machine``) and the subscribers' pages."""

from django.urls import path, re_path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.home, name="home"),
    path("pages/<slug:slug>", views.status_page, name="page"),
    path("monitors/<str:tag>", views.monitor, name="monitor"),
    path("monitors/<str:tag>/days/<str:day>", views.monitor_day, name="monitor-day"),
    re_path(r"^incidents/(?P<key>[A-Za-z]{3}-[0-9]{1,12})$", views.incident, name="incident"),
    path("maintenance/<int:pk>", views.maintenance, name="maintenance"),
    path("history", views.history, name="history"),
]
