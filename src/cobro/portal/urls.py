from django.urls import path

from cobro.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.start, name="start"),
    path("<str:token>/", views.statement, name="statement"),
    path("<str:token>/statement.pdf", views.statement_pdf, name="statement_pdf"),
    path("<str:token>/invoice.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("<str:token>/logo", views.logo, name="logo"),
    path("<str:token>/pay/", views.pay, name="pay"),
    path("<str:token>/paid/", views.paid, name="paid"),
    path("<str:token>/promise/", views.promise, name="promise"),
    path("<str:token>/plan/", views.plan, name="plan"),
    path("<str:token>/dispute/", views.dispute, name="dispute"),
    path("<str:token>/thanks/", views.thanks, name="thanks"),
]
