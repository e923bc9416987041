from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class PublicSiteConfig(AppConfig):
    name = "public_site"

    def ready(self) -> None:
        """Retire cached public pages when public data is saved through the ORM
        (incidents, their updates and monitors, maintenance windows, monitors).
        Check results are bulk-written and rely on the cache's short TTL."""
        from django.db import transaction
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from incidents.models import Incident, IncidentMonitor, IncidentUpdate, MaintenanceWindow
        from monitors.models import Monitor

        from . import cache

        def changed(**kwargs: Any) -> None:
            transaction.on_commit(cache.bump)

        for model in (Incident, IncidentUpdate, IncidentMonitor, MaintenanceWindow, Monitor):
            # weak=False: ``changed`` is local and would be collected otherwise.
            post_save.connect(
                changed, sender=model, weak=False, dispatch_uid=f"public-cache-{model.__name__}"
            )
            post_delete.connect(
                changed, sender=model, weak=False, dispatch_uid=f"public-cache-del-{model.__name__}"
            )
        m2m_changed.connect(
            changed,
            sender=MaintenanceWindow.monitors.through,
            weak=False,
            dispatch_uid="public-cache-mw-m2m",
        )
