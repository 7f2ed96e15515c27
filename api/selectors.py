"""Reads: whose tokens a user sees on the tokens page."""

from django.db.models import QuerySet

from chain.selectors import User

from .models import ApiToken


def tokens_all_visible(user: User) -> bool:
    """Administrators (superusers, the administrator role) see and revoke every token."""
    return user.is_superuser or user.has_perm("api.manage_all_tokens")


def token_list_for_user(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user")
    if not user.is_authenticated:
        return tokens.none()
    if tokens_all_visible(user):
        return tokens
    return tokens.filter(user=user)
