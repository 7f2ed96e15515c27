"""Customers, their value per period, imports and the stored results of each analysis."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from chain.models import Actor
from lib.tables import RowError, Text, message_text
from lib.value_types import ValueType

from .reading import PRODUCT_MAX_LENGTH


class Customer(models.Model):
    number = models.CharField(_("customer number"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    actor = models.ForeignKey(
        Actor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("chain actor"),
        help_text=_("The actor of the chains this customer is, or belongs to."),
    )
    # The segment (customer type, industry) the latest import gave, for filtering; the
    # value records keep the segment of each period.
    segment = models.CharField(
        _("segment"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="", db_index=True
    )

    class Meta:
        ordering = ["number"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return f"{self.name} ({self.number})" if self.name else self.number

    def get_absolute_url(self) -> str:
        return reverse("customers:detail", args=[self.pk])


class ImportBatch(models.Model):
    """One uploaded file: who, when, what, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file_name = models.CharField(_("file"), max_length=255)
    kind = models.CharField(_("layout"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    periods = models.PositiveIntegerField(_("periods"), default=0)
    first_period = models.DateField(_("first period"), null=True, blank=True)
    last_period = models.DateField(_("last period"), null=True, blank=True)
    # The first errors, up to the reader's limit, as codes and arguments put into words
    # in the reader's language when shown: [{"row": 2, "column": "Umsatz", "code":
    # "bad_number", "params": {...}}]. Imports before codes stored {"message": "..."}.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("errors in all"), default=0)
    # How it went, as {"code": ..., "params": {...}} (see OUTCOMES); older imports kept the
    # sentence in ``message``.
    outcome = models.JSONField(_("outcome"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    # The job's lease: the worker ("host:pid") writes heartbeat_at every few seconds while
    # it runs the job; a running import whose heartbeat is older than
    # settings.IMPORT_STALE_SECONDS lost its worker (see services.import_batches_recover).
    worker = models.CharField(_("worker"), max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    task_id = models.CharField(_("task"), max_length=64, blank=True)
    # The uploaded file while it waits for the worker; removed once loaded or given up.
    upload = models.CharField(_("uploaded file"), max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        permissions = [("import_values", _("Can import customer value data"))]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def message_text(self) -> str:
        """How it went, in the active language (older imports: as stored)."""
        code = (self.outcome or {}).get("code")
        if code:
            return message_text(code, self.outcome.get("params") or {}, OUTCOMES)
        return self.message

    @property
    def error_list(self) -> list[RowError]:
        return [RowError.from_json(error) for error in self.errors or []]

    @property
    def total_errors(self) -> int:
        # Imports before the count was kept: the errors stored are all that is known.
        return max(self.error_count, len(self.errors or []))

    @property
    def more_errors(self) -> bool:
        return self.error_count > len(self.errors or [])


# What an import's outcome says, by code (ImportBatch.outcome).
OUTCOMES: dict[str, Text] = {
    "has_errors": Text(_("The file has errors; nothing was imported.")),
    "done": Text(
        _(
            "%(rows)s rows imported for %(customers)s customers (%(new)s new); "
            "customers analysed again."
        ),
        ("rows", "customers", "new"),
    ),
    "failed": Text(_("The import failed: %(error)s")),
    "interrupted": Text(
        _(
            "The import was interrupted: the background worker stopped while it loaded the "
            "file. Nothing was imported. Upload the file again."
        )
    ),
    "analysis_restarted": Text(
        _(
            "%(rows)s rows imported for %(customers)s customers. The analysis was "
            "interrupted when the background worker stopped; it has been started again."
        ),
        ("rows", "customers"),
    ),
    "job_lost": Text(
        _(
            "The background job of this import ended without importing the file. Upload the "
            "file again."
        )
    ),
}


class ValueRecord(models.Model):
    """A customer's revenue and contribution margin in one period (a month)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="records", verbose_name=_("customer")
    )
    period = models.DateField(_("period"), help_text=_("First day of the month."))
    # "" when the file has no product column: the customer's whole business in the period.
    product = models.CharField(_("product"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="")
    segment = models.CharField(_("segment"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="")
    revenue = models.DecimalField(_("revenue"), max_digits=16, decimal_places=2)
    margin = models.DecimalField(
        _("contribution margin"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )

    class Meta:
        ordering = ["customer", "period"]
        verbose_name = _("value record")
        verbose_name_plural = _("value records")
        constraints = [
            # Re-importing a period replaces it: there is one record per customer, month and
            # product ("" for files without products).
            models.UniqueConstraint(
                fields=["customer", "period", "product"], name="one_record_per_period_product"
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="period_is_first_of_month"),
        ]
        # A chain's product matches its value records whatever the case (the scope
        # filters compare UPPER(product)).
        indexes = [models.Index(Upper("product"), name="valuerecord_product_upper")]


class Purchase(models.Model):
    """One purchase from a per-transaction import: the timing repeat-buying models use."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="purchases", verbose_name=_("customer")
    )
    date = models.DateField(_("date"))
    product = models.CharField(_("product"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="")
    segment = models.CharField(_("segment"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="")
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    margin = models.DecimalField(
        _("contribution margin"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="purchases"
    )

    class Meta:
        ordering = ["customer", "date", "pk"]
        verbose_name = _("purchase")
        verbose_name_plural = _("purchases")
        indexes = [models.Index(fields=["customer", "date"])]


class AnalysisRun(models.Model):
    created_at = models.DateTimeField(_("run at"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    as_of = models.DateField(_("as of"), help_text=_("The last period the analysis looked at."))
    horizon = models.PositiveSmallIntegerField(_("forecast horizon (periods)"), default=12)
    customers = models.PositiveIntegerField(_("customers"), default=0)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    # The administrators' version of the thresholds the run used (None: the defaults).
    threshold_settings = models.ForeignKey(
        "ThresholdSettings",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
        verbose_name=_("threshold settings"),
    )
    # How good the forecast was on the same data (customers/backtest.py): its figures with
    # "status": "done"; {"status": "on_request"} for a portfolio above
    # CUSTOMER_ANALYSIS["backtest_max_customers"], "queued" once asked for, "failed";
    # {} for runs before the backtest.
    backtest = models.JSONField(_("backtest"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        get_latest_by = "created_at"
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m} ({self.created_at:%Y-%m-%d %H:%M})"


class Assessment(models.Model):
    """One customer's value type, current and future value, and why, in one run."""

    run = models.ForeignKey(
        AnalysisRun, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("run")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="assessments", verbose_name=_("customer")
    )
    # "" for the customer's type over all its products; a product name for the type of the
    # customer's business in that product.
    product = models.CharField(_("product"), max_length=PRODUCT_MAX_LENGTH, blank=True, default="")
    value_type = models.CharField(_("value type"), max_length=20, choices=ValueType.choices)
    current_value = models.FloatField(_("current value"))
    future_value = models.FloatField(_("future value"))
    hidden_pearl = models.BooleanField(_("hidden pearl"), default=False)
    cost_review = models.BooleanField(_("cost-to-serve review"), default=False)
    # The figures the type rests on, as the analysis named them (see customers/analysis.py).
    figures = models.JSONField(_("explaining figures"), default=dict)

    class Meta:
        ordering = ["run", "customer"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "customer", "product"], name="one_assessment_per_run_product"
            ),
        ]
        indexes = [models.Index(fields=["customer", "run"])]


class ThresholdSettings(models.Model):
    """One saved version of the administrators' analysis thresholds (the page
    customers:thresholds); the latest version is in force.

    ``values`` holds only the thresholds that differ from the defaults (the code's,
    overlaid with settings.CUSTOMER_ANALYSIS["thresholds"]) at the time of saving, by the
    names of customers.analysis.Thresholds; a reset to the defaults saves an empty
    version. Earlier versions stay as the record of who changed what and when, and each
    analysis run points to the version it used (docs/operations.md, "Analysis thresholds").
    """

    values = models.JSONField(_("changed thresholds"), default=dict, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        ordering = ["-changed_at", "-pk"]
        get_latest_by = ["changed_at", "pk"]
        verbose_name = _("analysis thresholds")
        verbose_name_plural = _("analysis thresholds")

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d %H:%M}"


class AnalysisJob(models.Model):
    """A large analysis of the stored values run as chunk tasks on the task queue, so
    that several workers share it (customers/jobs.py). Passes 1 to 3 as in
    customers/chunked.py; its AnalysisRun is created only when every chunk of pass 3 is
    done, so nothing half-done is visible."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    pass_number = models.PositiveSmallIntegerField(_("pass"), default=1)
    chunks = models.PositiveIntegerField(_("chunks"), default=0)
    as_of = models.DateField(_("as of"))
    first_period = models.DateField(_("first period"))
    horizon = models.PositiveSmallIntegerField(_("forecast horizon (periods)"), default=12)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True)
    threshold_settings = models.ForeignKey(
        "ThresholdSettings", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The portfolio-wide figures the passes so far aggregated (customers/jobs.py).
    portfolio = models.BinaryField(null=True, blank=True)
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("analysis job")
        verbose_name_plural = _("analysis jobs")
        constraints = [
            # One analysis at a time: a second "Analyse again" joins the running job.
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status="running"),
                name="one_running_analysis_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m} ({self.status})"


class AnalysisChunk(models.Model):
    """One contiguous range of the customers (their numbers sorted by code point) of an
    AnalysisJob, in the job's current pass."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="chunk_set")
    index = models.PositiveIntegerField()
    first_customer = models.CharField(max_length=64)
    last_customer = models.CharField(max_length=64)
    pass_number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True, default="")
    task_id = models.CharField(max_length=64, blank=True, default="")
    # Enqueued, started or alive at (the worker's heartbeat while it runs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # What the pass produced: its parts of the portfolio-wide figures (passes 1, 2) or its
    # assessment rows (pass 3), see customers/jobs.py.
    parts = models.BinaryField(null=True, blank=True)
    # The chunk's value records as its first pass read them (a Feather table): every pass
    # analyses the same values.
    history = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="one_chunk_per_job_index"),
        ]
