from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("add/", views.webhook_add, name="add"),
    path("<int:pk>/", views.webhook_detail, name="detail"),
    path("<int:pk>/edit/", views.webhook_edit, name="edit"),
    path("<int:pk>/pause/", views.webhook_pause, name="pause"),
    path("<int:pk>/resume/", views.webhook_resume, name="resume"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate, name="rotate"),
    path("<int:pk>/delete/", views.webhook_delete, name="delete"),
]
