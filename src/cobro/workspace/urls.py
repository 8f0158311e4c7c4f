from django.contrib.auth import views as auth_views
from django.urls import path

from cobro.workspace import policy_views, settings_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("org/", views.org_switch, name="org_switch"),
    path("language/", views.set_language, name="set_language"),
    path("today/", views.today, name="today"),
    path("tasks/<int:pk>/log/", views.task_log, name="task_log"),
    path("tasks/<int:pk>/form/", views.task_form, name="task_form"),
    path("tasks/<int:pk>/approve/", views.task_approve, name="task_approve"),
    path("tasks/approve/", views.tasks_approve, name="tasks_approve"),
    path("board/", views.board, name="board"),
    path("board/column/<slug:stage>/", views.board_column, name="board_column"),
    path("board/move/<int:pk>/", views.board_move, name="board_move"),
    path("customers/", views.customers, name="customers"),
    path("customers/<int:pk>/", views.customer_detail, name="customer"),
    path("customers/<int:pk>/timeline/", views.customer_timeline, name="customer_timeline"),
    path("customers/<int:pk>/call/", views.customer_call, name="customer_call"),
    path("customers/<int:pk>/note/", views.customer_note, name="customer_note"),
    path("customers/<int:pk>/pause/", views.customer_pause, name="customer_pause"),
    path("customers/<int:pk>/owner/", views.customer_owner, name="customer_owner"),
    path("customers/<int:pk>/message/", views.customer_message, name="customer_message"),
    path("customers/<int:pk>/message/preview/", views.customer_message_preview, name="customer_message_preview"),
    path("customers/<int:pk>/case-file.pdf", views.case_file, name="case_file"),
    path("settings/", settings_views.settings_home, name="settings"),
    path("settings/scripts/", settings_views.settings_scripts, name="settings_scripts"),
    path("settings/reasons/", settings_views.settings_reasons, name="settings_reasons"),
    path("settings/reasons/<int:pk>/toggle/", settings_views.settings_reason_toggle, name="settings_reason_toggle"),
    path("settings/team/", settings_views.settings_team, name="settings_team"),
    path("settings/rates/", settings_views.settings_rates, name="settings_rates"),
    path("settings/policies/", policy_views.settings_policies, name="settings_policies"),
    path("settings/contact-rules/", policy_views.settings_contact_rules, name="settings_contact_rules"),
    path("settings/team/<int:pk>/role/", settings_views.settings_member_role, name="settings_member_role"),
    path("", views.home, name="home"),
]
