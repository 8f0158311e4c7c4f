from django.urls import path

from cobro.providers import views

app_name = "providers"
urlpatterns = [
    path("webhooks/stripe/<slug:org>/", views.stripe_webhook, name="stripe_webhook"),
    path("webhooks/mercadopago/<slug:org>/", views.mercadopago_webhook, name="mercadopago_webhook"),
    path("pay/transbank/return/", views.transbank_return, name="transbank_return"),
    path("pay/done/<uuid:request_id>/<str:result>/", views.done, name="done"),
    path("settings/providers/", views.settings_page, name="settings"),
]
