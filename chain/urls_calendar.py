"""The calendar of one's actions, under chains/actions/calendar/ (in the chain namespace)."""

from django.urls import path

from . import views_calendar

urlpatterns = [
    path("", views_calendar.calendar_page, name="calendar"),
    path("renew/", views_calendar.calendar_renew, name="calendar-renew"),
    # Public: calendar programs cannot log in, the token is the key (views_calendar).
    path("<slug:token>.ics", views_calendar.calendar_feed, name="calendar-feed"),
]
