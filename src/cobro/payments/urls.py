from django.urls import path

from cobro.payments import views

app_name = "payments"
urlpatterns = [
    path("", views.index, name="index"),
    path("lines/<int:pk>/", views.line_detail, name="line"),
    path("lines/<int:pk>/accept/", views.accept, name="accept"),
    path("lines/<int:pk>/assign/", views.assign, name="assign"),
    path("lines/<int:pk>/undo/", views.undo, name="undo"),
    path("lines/<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
