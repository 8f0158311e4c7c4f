from django.urls import path

from cobro.api import views

app_name = "api_settings"
urlpatterns = [
    path("", views.settings_api, name="home"),
    path("keys/<int:pk>/revoke/", views.revoke_key, name="revoke_key"),
    path("webhooks/<int:pk>/toggle/", views.toggle_endpoint, name="toggle_endpoint"),
    path("deliveries/<int:pk>/redeliver/", views.redeliver, name="redeliver"),
]
