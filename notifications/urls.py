"""Console routes of triggers and deliveries, mounted at /console/."""

from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("triggers/", views.trigger_list, name="triggers"),
    path("triggers/new/", views.trigger_choose, name="trigger_create"),
    path("triggers/new/<str:kind>/", views.trigger_create, name="trigger_create_kind"),
    path("triggers/<int:pk>/", views.trigger_detail, name="trigger_detail"),
    path("triggers/<int:pk>/edit/", views.trigger_edit, name="trigger_edit"),
    path("triggers/<int:pk>/test/", views.trigger_test, name="trigger_test"),
    path("triggers/<int:pk>/delete/", views.trigger_delete, name="trigger_delete"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="delivery_detail"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="delivery_retry"),
]
