"""What the API returns: the shapes in the OpenAPI schema (docs/openapi.json)."""

from datetime import date, datetime
from typing import Any

from ninja import ModelSchema, Schema

from chain.models import (
    Action,
    Actor,
    Chain,
    ChainLink,
    Contact,
    Influence,
    Stage,
    SuccessFactor,
    Team,
    WorksheetAnswer,
)
from customers.models import AnalysisRun, Customer, ValueRecord
from customers.selectors import customers_all_visible


class TeamOut(ModelSchema):
    class Meta:
        model = Team
        fields = ["id", "name"]


class ChainOut(ModelSchema):
    team: TeamOut

    class Meta:
        model = Chain
        fields = [
            "id",
            "scope_kind",
            "scope_name",
            "goal",
            "customer_type",
            "coach_whom",
            "status",
            "version",
            "created_at",
            "updated_at",
            "approved_at",
        ]


class StageOut(ModelSchema):
    class Meta:
        model = Stage
        fields = ["id", "name", "position", "role", "is_own"]


class ActorOut(ModelSchema):
    kind: str | None

    class Meta:
        model = Actor
        fields = ["id", "name", "size", "is_own_company", "version"]

    @staticmethod
    def resolve_kind(actor: Actor) -> str | None:
        return actor.kind.name if actor.kind_id else None


class ContactOut(ModelSchema):
    link_id: int
    owner_id: int | None

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "role",
            "email",
            "phone",
            "buying_role",
            "attitude",
            "level",
            "relation_now",
            "relation_goal",
            "last_contact",
            "notes",
            "version",
        ]


class LinkOut(ModelSchema):
    stage_id: int
    actor: ActorOut
    success_factors: list[str]
    contacts: list[ContactOut]

    class Meta:
        model = ChainLink
        fields = [
            "id",
            "position",
            "importance",
            "relationship",
            "competitive_position",
            "count",
            "success_factors_text",
            "problems_needs",
            "notes",
            "version",
        ]

    @staticmethod
    def resolve_success_factors(link: ChainLink) -> list[str]:
        return [factor.name for factor in link.success_factors.all()]

    @staticmethod
    def resolve_contacts(link: ChainLink) -> list[Contact]:
        return link.contact_list


class InfluenceOut(ModelSchema):
    source_id: int
    target_id: int

    class Meta:
        model = Influence
        fields = ["id", "description", "strength"]


class AnswerOut(ModelSchema):
    link_id: int | None

    class Meta:
        model = WorksheetAnswer
        fields = ["id", "question", "text", "updated_at", "version"]


class ActionOut(ModelSchema):
    link_id: int | None
    contact_id: int | None
    owner_id: int | None
    comment_id: int | None

    class Meta:
        model = Action
        fields = [
            "id",
            "title",
            "notes",
            "status",
            "due",
            "source",
            "question",
            "customer_number",
            "created_at",
            "closed_at",
            "version",
        ]


class ChainDetailOut(ChainOut):
    stages: list[StageOut]
    links: list[LinkOut]
    influences: list[InfluenceOut]
    answers: list[AnswerOut]
    actions: list[ActionOut]


class AssessmentOut(Schema):
    """One analysis run's judgement of a customer (docs/method.md)."""

    as_of: date
    run_at: datetime
    value_type: str
    current_value: float
    future_value: float
    value_basis: str
    hidden_pearl: bool
    cost_review: bool
    figures: dict[str, Any]

    @staticmethod
    def resolve_as_of(assessment) -> date:
        return assessment.run.as_of

    @staticmethod
    def resolve_run_at(assessment) -> datetime:
        return assessment.run.created_at


class CustomerOut(ModelSchema):
    actor_id: int | None
    latest_assessment: AssessmentOut | None

    class Meta:
        model = Customer
        fields = ["id", "number", "name", "segment"]

    @staticmethod
    def resolve_latest_assessment(customer: Customer):
        return getattr(customer, "latest_assessment", None)


class CustomerDetailOut(CustomerOut):
    history: list[AssessmentOut]


class ErrorOut(Schema):
    detail: str


# The catalogs, value records, imports and analysis runs (api/resources.py) -------------


class CatalogActorOut(ActorOut):
    class Meta:
        model = Actor
        fields = ["id", "name", "size", "is_own_company", "notes", "version"]


class SuccessFactorOut(ModelSchema):
    class Meta:
        model = SuccessFactor
        fields = ["id", "name"]


class ValueRecordOut(ModelSchema):
    customer_id: int
    customer_number: str
    revenue: float
    margin: float | None

    class Meta:
        model = ValueRecord
        fields = ["id", "period", "product", "segment"]

    @staticmethod
    def resolve_customer_number(record: ValueRecord) -> str:
        return record.customer.number


class ImportBatchOut(Schema):
    id: int
    file_name: str
    status: str
    progress: int
    rows: int
    customers: int
    periods: int
    first_period: date | None
    last_period: date | None
    error_count: int
    created_at: datetime


def _sees_every_customer(context: dict) -> bool:
    return customers_all_visible(context["request"].user)


class AnalysisRunOut(Schema):
    """An analysis run. `customers` (how many it analysed: every team's) only for who
    sees every customer, as on the customers page."""

    id: int
    created_at: datetime
    as_of: date
    horizon: int
    customers: int | None
    threshold_version: int | None

    @staticmethod
    def resolve_threshold_version(run: AnalysisRun) -> int | None:
        """The administrators' thresholds version the run used; None: the defaults."""
        return run.threshold_settings_id

    @staticmethod
    def resolve_customers(run: AnalysisRun, context: dict) -> int | None:
        return run.customers if _sees_every_customer(context) else None


class ValueTypeCount(Schema):
    value_type: str
    count: int


class AnalysisRunDetailOut(AnalysisRunOut):
    """With the thresholds it used, its backtest figures (for who sees every customer, as
    on the portfolio page) and how many of the customers the user may see it found of
    each value type."""

    thresholds: dict[str, Any]
    backtest: dict[str, Any] | None
    value_type_counts: list[ValueTypeCount]

    @staticmethod
    def resolve_backtest(run: AnalysisRun, context: dict) -> dict[str, Any] | None:
        return run.backtest if _sees_every_customer(context) else None
