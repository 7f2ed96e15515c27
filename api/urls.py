from django.urls import path

from . import views

app_name = "api-tokens"

urlpatterns = [
    path("", views.tokens_page, name="list"),
    path("add/", views.token_add, name="add"),
    path("<int:pk>/revoke/", views.token_revoke_page, name="revoke"),
]
