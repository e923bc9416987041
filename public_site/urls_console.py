"""Console pages of the public side (namespace ``public_console``), included
at /console/site/: site settings, status pages, sections and their monitors."""

from django.urls import path

from . import views_console as views

app_name = "public_console"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("settings/", views.site_settings, name="settings"),
    path("pages/new/", views.page_create, name="page-create"),
    path("pages/<int:pk>/", views.page_edit, name="page"),
    path("pages/<int:pk>/delete/", views.page_delete, name="page-delete"),
    path("pages/<int:pk>/sections/", views.section_create, name="section-create"),
    path("sections/<int:pk>/", views.section_edit, name="section"),
    path("sections/<int:pk>/delete/", views.section_delete, name="section-delete"),
    path("sections/<int:pk>/move/", views.section_move, name="section-move"),
    path("sections/<int:pk>/monitors/", views.section_add, name="section-add"),
    path("entries/<int:pk>/move/", views.entry_move, name="entry-move"),
    path("entries/<int:pk>/remove/", views.entry_remove, name="entry-remove"),
]
