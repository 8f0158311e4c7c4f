from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "cobro.workspace"
    label = "workspace"
