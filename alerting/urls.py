"""Console routes of the alerting app, mounted at /console/alerts/."""

from django.urls import path

from . import views

app_name = "alerting"
urlpatterns = [
    path("", views.alert_log, name="log"),
    path("events/<int:pk>/delete/", views.event_delete, name="event_delete"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/sentence/", views.rule_sentence_partial, name="rule_sentence"),
    path("rules/<int:pk>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
