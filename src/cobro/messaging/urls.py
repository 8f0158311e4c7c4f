from django.urls import path

from cobro.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("<int:pk>/", views.message_detail, name="message"),
    path("<int:pk>/retry/", views.message_retry, name="retry"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    # The debtor's pages, reached by signed links in messages.
    path("s/<str:token>/", views.statement, name="statement"),
    path("u/<str:token>/", views.opt_out, name="opt_out"),
    # Provider webhooks.
    path("hooks/twilio/status/", views.twilio_status, name="twilio_status"),
    path("hooks/twilio/inbound/", views.twilio_inbound, name="twilio_inbound"),
    path("hooks/whatsapp/", views.whatsapp_webhook, name="whatsapp_webhook"),
    path("hooks/email/inbound/", views.email_inbound, name="email_inbound"),
]
