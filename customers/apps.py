from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Customer value")

    def ready(self) -> None:
        # The chain page shows its customers and their value through chain.decorations:
        # customers builds on chain, never the other way round (docs/architecture.md).
        from chain.decorations import provider_register, type_counter_register

        from .chain_values import chain_decoration
        from .selectors import value_type_counts

        provider_register(chain_decoration)
        type_counter_register(value_type_counts)
