from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView
from django.views.i18n import set_language

from api.api import urls as api_urls
from config.health import health


@require_safe
@login_not_required
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own, also for pages without our <head>
    (the admin, error pages): point them to the icon that base.html links."""
    return redirect(static("favicon.svg"))


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="chain:list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # Public so that the language can be switched on the login page.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # Public: for container health checks and load balancers (see config/health.py).
    path("health/", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("chains/", include("chain.urls")),
    path("customers/", include("customers.urls")),
    # The JSON API (versioned: a change that breaks clients goes to v2) and the tokens page.
    path("api/v1/", api_urls()),
    path("api/tokens/", include("api.urls")),
    # The administrators' webhooks (README, "Webhooks").
    path("webhooks/", include("webhooks.urls")),
]
