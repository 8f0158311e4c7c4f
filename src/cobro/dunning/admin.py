"""The cycle's records in the admin, scoped by organization.

Actions, stages, pauses and rule changes are read-only here: they change through
``dunning.services`` (which records each change on the timeline) or through the cycle itself.
Policies are edited on the settings pages (the steps form, or YAML), where every step is validated.
"""

from django.contrib import admin

from cobro.dunning.models import (
    Action,
    ContactRuleChange,
    CustomerRisk,
    CustomerStage,
    CycleRun,
    CycleShard,
    Pause,
    PausedInvoice,
    Policy,
    PolicyAssignment,
    PolicyChange,
    RiskBandTotal,
    Segment,
    WorkerBeat,
)
from cobro.ledger.admin import ReadOnlyTenantAdmin


@admin.register(Policy)
class PolicyAdmin(ReadOnlyTenantAdmin):
    list_display = ("code", "name", "is_default", "segment", "version", "updated_at")


@admin.register(PolicyAssignment)
class PolicyAssignmentAdmin(ReadOnlyTenantAdmin):
    list_display = ("customer", "policy")
    raw_id_fields = ("customer",)


@admin.register(Segment)
class SegmentAdmin(ReadOnlyTenantAdmin):
    """Segments are edited on the policies page, where each rule is checked."""

    list_display = ("priority", "name", "policy", "updated_at")


@admin.register(CustomerRisk)
class CustomerRiskAdmin(ReadOnlyTenantAdmin):
    list_display = ("customer", "score", "band", "scored_on")
    list_filter = ("band",)
    raw_id_fields = ("customer",)


@admin.register(RiskBandTotal)
class RiskBandTotalAdmin(ReadOnlyTenantAdmin):
    list_display = ("scored_on", "currency", "band", "customers", "open_amount")


@admin.register(CustomerStage)
class CustomerStageAdmin(ReadOnlyTenantAdmin):
    list_display = ("customer", "stage", "since", "moved_by")
    list_filter = ("stage",)


@admin.register(Pause)
class PauseAdmin(ReadOnlyTenantAdmin):
    list_display = ("customer", "until", "reason", "actor", "created_at", "lifted_at")


@admin.register(PausedInvoice)
class PausedInvoiceAdmin(ReadOnlyTenantAdmin):
    list_display = ("pause", "invoice")
    raw_id_fields = ("pause", "invoice")


@admin.register(ContactRuleChange)
class ContactRuleChangeAdmin(ReadOnlyTenantAdmin):
    list_display = ("created_at", "country", "loosens", "reason", "actor")
    list_filter = ("country", "loosens")


@admin.register(Action)
class ActionAdmin(ReadOnlyTenantAdmin):
    list_display = ("as_of", "customer", "step", "action", "channel", "template", "status", "scheduled_for")
    list_filter = ("status", "action", "channel", "as_of")
    search_fields = ("key", "customer__name", "customer__ref")


@admin.register(CycleRun)
class CycleRunAdmin(ReadOnlyTenantAdmin):
    list_display = ("as_of", "started_at", "finished_at", "created")


@admin.register(CycleShard)
class CycleShardAdmin(ReadOnlyTenantAdmin):
    """The parts of a day's cycle split across workers (docs/scaling.md): who holds each, its last beat."""

    list_display = ("as_of", "index", "count", "worker", "heartbeat_at", "finished_at", "attempts", "created")


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyTenantAdmin):
    """Every save of a policy (the editor's audit): who, when, which version, what changed."""

    list_display = ("created_at", "policy", "version", "actor", "source")
    list_filter = ("source",)


@admin.register(WorkerBeat)
class WorkerBeatAdmin(admin.ModelAdmin):
    """Installation-wide (the admin site keeps it for superusers): when each worker last ran."""

    list_display = ("name", "host", "pid", "started_at", "beat_at", "passes")
    readonly_fields = ("name", "host", "pid", "started_at", "beat_at", "passes", "last")

    def has_add_permission(self, request):
        return False
