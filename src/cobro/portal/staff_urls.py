"""The team's pages of the portal app (signed in): its settings, and the survey results next to the
insights dashboard."""

from django.urls import path

from cobro.portal import staff_views

app_name = "portal_settings"
urlpatterns = [
    path("settings/portal/", staff_views.settings_portal, name="home"),
    path("insights/surveys/", staff_views.survey_results, name="surveys"),
]
