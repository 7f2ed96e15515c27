from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from lib.db import sqlite_unicode_upper, sqlite_use_variable_limit


class ChainConfig(AppConfig):
    name = "chain"
    verbose_name = _("Problem-solving chains")

    def ready(self) -> None:
        post_migrate.connect(_roles_ensure, sender=self)
        connection_created.connect(sqlite_use_variable_limit, dispatch_uid="sqlite_variable_limit")
        connection_created.connect(sqlite_unicode_upper, dispatch_uid="sqlite_unicode_upper")


def _roles_ensure(sender, **kwargs) -> None:
    from django.contrib.auth.management import create_permissions

    from .roles import roles_ensure

    # The customers, api and webhooks apps migrate after this one: their permissions must
    # exist already.
    for label in ("auth", "chain", "customers", "api", "webhooks"):
        create_permissions(global_apps.get_app_config(label), verbosity=0)
    roles_ensure(global_apps)
