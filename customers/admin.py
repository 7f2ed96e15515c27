from django.contrib import admin

from .models import AnalysisRun, Assessment, Customer, ImportBatch


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "segment", "actor"]
    search_fields = ["number", "name", "segment"]
    list_select_related = ["actor"]
    autocomplete_fields = ["actor"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["file_name", "uploaded_by", "created_at", "status", "rows", "customers"]
    list_filter = ["status", "kind"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]


@admin.register(AnalysisRun)
class AnalysisRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "as_of", "horizon", "customers", "started_by"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["customer", "product", "run", "value_type", "current_value", "future_value"]
    list_filter = ["value_type", "hidden_pearl", "cost_review"]
    search_fields = ["customer__number", "customer__name", "product"]
    list_select_related = ["customer", "run"]
    raw_id_fields = ["customer", "run"]
