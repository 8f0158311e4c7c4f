from django.urls import path

from cobro.insights import abtest_views, views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.export_csv, name="export_csv"),
    path("export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("abtests/", abtest_views.abtest_list, name="abtests"),
    path("abtests/start/", abtest_views.abtest_start, name="abtest_start"),
    path("abtests/<int:pk>/", abtest_views.abtest_detail, name="abtest"),
    path("abtests/<int:pk>/stop/", abtest_views.abtest_stop, name="abtest_stop"),
    path("abtests/<int:pk>/apply/", abtest_views.abtest_apply, name="abtest_apply"),
]
