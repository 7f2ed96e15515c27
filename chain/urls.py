from django.urls import path

from . import views

app_name = "chain"
urlpatterns = [
    path("", views.chain_list, name="list"),
    path("new/", views.chain_create, name="create"),
    path("<int:pk>/", views.chain_detail, name="detail"),
    path("<int:pk>/edit/", views.chain_edit, name="edit"),
    path("<int:pk>/delete/", views.chain_delete, name="delete"),
    path("<int:pk>/diagram.svg", views.chain_svg, name="svg"),
    path("<int:pk>/stages/add/", views.stage_add, name="stage-add"),
    path("<int:pk>/stages/reorder/", views.stage_reorder, name="stage-reorder"),
    path("<int:pk>/links/add/", views.link_add, name="link-add"),
    path("<int:pk>/links/reorder/", views.link_reorder, name="link-reorder"),
    path("<int:pk>/influences/add/", views.influence_add, name="influence-add"),
    path("<int:pk>/answers/save/", views.answer_save, name="answer-save"),
    path("stages/<int:pk>/rename/", views.stage_rename, name="stage-rename"),
    path("stages/<int:pk>/move/", views.stage_move, name="stage-move"),
    path("stages/<int:pk>/own/", views.stage_set_own, name="stage-own"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage-delete"),
    path("links/<int:pk>/", views.link_card, name="link-card"),
    path("links/<int:pk>/edit/", views.link_edit, name="link-edit"),
    path("links/<int:pk>/answers/", views.link_answers, name="link-answers"),
    path("links/<int:pk>/move/", views.link_move, name="link-move"),
    path("links/<int:pk>/delete/", views.link_delete, name="link-delete"),
    path("links/<int:pk>/contacts/add/", views.contact_add, name="contact-add"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("influences/<int:pk>/edit/", views.influence_edit, name="influence-edit"),
    path("influences/<int:pk>/delete/", views.influence_delete, name="influence-delete"),
]
