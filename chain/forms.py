from django import forms
from django.contrib.auth import get_user_model
from django.db import models
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from lib.forms import CleanTextMixin
from lib.text import strip_control

from .actions import ABOUT_FIELDS, about_attname, team_members
from .models import (
    CHAIN_QUESTIONS,
    Action,
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    Contact,
    Influence,
    Question,
    Stage,
    StageRole,
    Team,
)
from .selectors import actor_catalog_editable_by
from .services import ACTOR_CATALOG_FIELDS, ACTOR_SHARED


def _display(field: forms.Field, value: object) -> str:
    """A field's value as the user reads it: choice labels, names, "–" for nothing."""
    if value in (None, "") or value == []:
        return "–"
    if isinstance(value, list | tuple | models.QuerySet):
        return ", ".join(_display(field, v) for v in value)
    if isinstance(field, forms.ModelChoiceField) and not isinstance(value, models.Model):
        value = field.queryset.filter(pk=value).first() or value
    elif hasattr(field, "choices") and not isinstance(field, forms.ModelChoiceField):
        labels = {str(key): label for key, label in field.choices}
        value = labels.get(str(value), value)
    return str(value)


class VersionedForm(CleanTextMixin, forms.ModelForm):
    """Carries the version the form was loaded with (see `services.versioned_save`)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __new__(cls, *args, **kwargs):
        form = super().__new__(cls)
        # The subclasses' own keyword arguments (chain=, user=), to build the same form
        # around the current row when a save is refused (`conflict_rows`).
        form.extra_kwargs = {k: v for k, v in kwargs.items() if k not in ("instance", "initial")}
        return form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version

    def conflict_rows(self, current) -> list[tuple[str, str, str]]:
        """(label, current value, your value) of each field where the two differ."""
        theirs = type(self)(instance=current, **self.extra_kwargs)
        rows = []
        for name, field in self.fields.items():
            # Hidden fields are bookkeeping (the versions), nothing the user typed.
            if field.widget.is_hidden or name not in self.cleaned_data:
                continue
            initial = theirs[name].initial
            if field.has_changed(initial, self[name].data):
                mine = self.cleaned_data[name]
                rows.append((field.label, _display(field, initial), _display(field, mine)))
        return rows

    def conflict_take_over(self, current) -> None:
        """After a refused save: keep the user's values, but at the current version, so
        that saving again applies them on top of what the other person saved."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = current.version


class ChainForm(VersionedForm):
    class Meta:
        model = Chain
        fields = ["team", "scope_kind", "scope_name", "goal", "customer_type", "coach_whom"]
        widgets = {"coach_whom": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.all() if user.is_superuser else Team.objects.filter(members=user)
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].initial = teams.first()
        self.fields["customer_type"].help_text = _("Optional: the value type this chain is about.")


# The role a new stage most likely has: the one after the last stage's (docs/method.md).
NEXT_ROLE = {
    StageRole.SUPPLIER: StageRole.CUSTOMER,
    StageRole.OWN: StageRole.CUSTOMER,
    StageRole.CUSTOMER: StageRole.CUSTOMERS_CUSTOMER,
    StageRole.CUSTOMERS_CUSTOMER: StageRole.DOWNSTREAM,
    StageRole.DOWNSTREAM: StageRole.DOWNSTREAM,
    StageRole.INFLUENCER: StageRole.INFLUENCER,
}


def next_stage_role(chain: Chain) -> str:
    last = chain.stages.order_by("-position", "-pk").values_list("role", flat=True).first()
    return NEXT_ROLE.get(last, StageRole.CUSTOMER) if last else StageRole.SUPPLIER


class StageForm(VersionedForm):
    """Name and role of a stage. "Our company" is no choice here: one stage holds it, and
    it moves only with the stage's "Our stage" button (services.stage_set_own)."""

    class Meta:
        model = Stage
        fields = ["name", "role"]

    def __init__(self, *args, chain: Chain | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.chain = chain
        role = self.fields["role"]
        # Left out, a new stage takes the next role, an existing one keeps its own.
        role.required = False
        role.help_text = _("Where the stage stands in the chain; the traffic light reads it.")
        if self.instance.pk and self.instance.is_own:
            role.disabled = True
            role.help_text = _("Our company's stage: choose another with “Our stage”.")
            return
        role.choices = [(v, label) for v, label in StageRole.choices if v != StageRole.OWN]
        if not self.instance.pk and chain is not None:
            role.initial = next_stage_role(chain)

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if not role:
            if self.instance.pk:
                return self.instance.role
            return next_stage_role(self.chain) if self.chain else StageRole.CUSTOMER
        if role == StageRole.OWN and not self.instance.is_own:
            raise forms.ValidationError(
                _("Our company's stage is set with “Our stage”, not chosen here.")
            )
        return role


class LinkAddForm(CleanTextMixin, forms.Form):
    """Add a member: pick an actor from the catalog or name a new one."""

    stage = forms.ModelChoiceField(queryset=Stage.objects.none(), label=_("Stage"))
    actor = forms.ModelChoiceField(
        queryset=Actor.objects.none(), required=False, label=_("Actor from the catalog")
    )
    new_name = forms.CharField(
        max_length=160, required=False, label=_("Or a new actor, not yet in the catalog")
    )
    new_kind = forms.ModelChoiceField(
        queryset=ActorKind.objects.all(), required=False, label=_("Kind of the new actor")
    )

    def __init__(self, *args, chain: Chain, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = chain.stages.all()
        self.fields["actor"].queryset = Actor.objects.exclude(links__chain=chain).select_related(
            "kind"
        )

    def clean(self):
        data = super().clean()
        actor, name = data.get("actor"), (data.get("new_name") or "").strip()
        if actor and name:
            raise forms.ValidationError(
                _("Pick an actor from the catalog or name a new one, not both.")
            )
        if not actor and not name:
            self.add_error("actor", _("Pick an actor from the catalog or name a new one."))
        if name:
            if Actor.objects.filter(name__iexact=name).exists():
                self.add_error(
                    "new_name",
                    _("“%(name)s” is already in the catalog: pick it above.") % {"name": name},
                )
            if not data.get("new_kind"):
                self.add_error("new_kind", _("Choose the kind of the new actor."))
        return data


class LinkForm(VersionedForm):
    """Characterise a member: its place in this chain's market, plus the actor's catalog
    facts (kind, size class), which describe the organisation in every chain using it.

    Who may not change the catalog facts (`actor_catalog_editable_by`) sees them disabled:
    the browser sends nothing for them, and Django ignores whatever is posted anyway.
    `actor_version` is the actor's version when the form was loaded, checked by
    `services.link_characterise` when the facts change.
    """

    kind = forms.ModelChoiceField(queryset=ActorKind.objects.all(), label=_("Kind"))
    size = forms.ChoiceField(
        choices=[("", "–"), *Actor.Size.choices], required=False, label=_("Size class")
    )
    actor_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    importance = forms.TypedChoiceField(
        choices=[("", "–"), *[(i, str(i)) for i in range(1, 6)]],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("Importance"),
        help_text=_("1 (low) to 5 (key actor)"),
    )

    field_order = ["kind", "count", "size", "competitive_position", "importance", "relationship"]

    class Meta:
        model = ChainLink
        fields = [
            "count",
            "competitive_position",
            "importance",
            "relationship",
            "success_factors",
            "success_factors_text",
            "problems_needs",
            "notes",
        ]
        widgets = {
            "success_factors": forms.CheckboxSelectMultiple,
            "success_factors_text": forms.Textarea(attrs={"rows": 2}),
            "problems_needs": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        actor = self.instance.actor
        self.fields["kind"].initial = actor.kind_id
        self.fields["size"].initial = actor.size
        self.fields["actor_version"].initial = actor.version
        self.catalog_editable = actor_catalog_editable_by(actor, user)
        if not self.catalog_editable:
            for name in ACTOR_CATALOG_FIELDS:
                self.fields[name].disabled = True
                self.fields[name].help_text = ACTOR_SHARED

    def actor_changes(self) -> dict[str, object]:
        """The catalog facts the user changed, against the actor as it is now."""
        if not self.catalog_editable:
            return {}
        actor, data = self.instance.actor, self.cleaned_data
        changes: dict[str, object] = {}
        if data["kind"].pk != actor.kind_id:
            changes["kind"] = data["kind"]
        if data["size"] != actor.size:
            changes["size"] = data["size"]
        return changes

    def conflict_take_over(self, current) -> None:
        super().conflict_take_over(current)
        self.data[self.add_prefix("actor_version")] = current.actor.version


class ContactForm(VersionedForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "role",
            "email",
            "phone",
            "buying_role",
            "attitude",
            "level",
            "relation_now",
            "relation_goal",
            "owner",
            "last_contact",
            "notes",
        ]
        widgets = {
            "last_contact": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, chain: Chain, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(teams=chain.team_id)

    def clean(self):
        data = super().clean()
        name, role = (data.get("name") or "").strip(), (data.get("role") or "").strip()
        if not name and not role:
            self.add_error("name", _("Give a name, or at least the role for a placeholder."))
        if not name and data.get("level") in (Contact.Level.OCCASIONAL, Contact.Level.REGULAR):
            self.add_error("level", _("Direct contact needs a name: whom do we talk to?"))
        return data


class InfluenceForm(VersionedForm):
    class Meta:
        model = Influence
        fields = ["source", "target", "strength", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, chain: Chain, **kwargs):
        super().__init__(*args, **kwargs)
        links = chain.links.select_related("actor").order_by("stage__position", "position")
        self.fields["source"].queryset = links
        self.fields["target"].queryset = links
        self.instance.chain = chain

    def clean(self):
        data = super().clean()
        source, target = data.get("source"), data.get("target")
        if source and source == target:
            self.add_error("target", _("An actor cannot influence itself."))
        elif source and target:
            clash = Influence.objects.filter(source=source, target=target).exclude(
                pk=self.instance.pk
            )
            if clash.exists():
                self.add_error("target", _("This influence is already recorded; edit it instead."))
        return data


class CommentForm(CleanTextMixin, forms.Form):
    """A reviewer's comment on the chain, on one actor or on one worksheet question."""

    # Not required: its empty choice, "the chain as a whole", is the default one.
    about = forms.ChoiceField(label=_("About"), required=False)
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, chain: Chain, **kwargs):
        super().__init__(*args, **kwargs)
        links = chain.links.select_related("actor").order_by("stage__position", "position")
        self.fields["about"].choices = [
            ("", _("the chain as a whole")),
            (_("Actors"), [(f"link:{link.pk}", str(link.actor)) for link in links]),
            (_("Worksheet questions"), [(f"q:{q}", Question(q).label) for q in CHAIN_QUESTIONS]),
        ]

    def target(self) -> dict:
        """The comment's `link` or `question`, from the chosen "about"."""
        kind, _sep, value = self.cleaned_data["about"].partition(":")
        if kind == "link":
            return {"link_id": int(value)}
        if kind == "q":
            return {"question": value}
        return {}


class ReplyForm(CleanTextMixin, forms.Form):
    """An answer to a review comment, by the chain's team or a manager."""

    text = forms.CharField(
        label=_("Your reply"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReturnForm(CleanTextMixin, forms.Form):
    text = forms.CharField(
        label=_("What should the team change?"), widget=forms.Textarea(attrs={"rows": 3})
    )


class _OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class ActionForm(VersionedForm):
    """A next step of the chain (chain.actions): what, who, by when, and what it is about.

    "About" is one choice, "kind:value" as in `CommentForm`: the chain as a whole, an
    actor, a contact person, a worksheet question, a review comment or a customer number.
    `clean` puts the choice on the instance; the model's about-fields are in `Meta.fields`
    so that `versioned_save` takes them from the form, not from the stored row.
    """

    about = forms.ChoiceField(label=_("About"), required=False)
    source = forms.ChoiceField(
        choices=Action.Source.choices, widget=forms.HiddenInput, required=False
    )
    owner = _OwnerField(queryset=Action.objects.none(), label=_("Owner"))

    field_order = ["title", "owner", "due", "about", "notes"]

    class Meta:
        model = Action
        fields = ["title", "owner", "due", "notes", *ABOUT_FIELDS]
        widgets = {
            "due": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, chain: Chain, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ABOUT_FIELDS:
            del self.fields[name]
        if self.instance.pk:
            del self.fields["source"]
        self.chain = chain
        self.instance.chain = chain
        self.fields["owner"].queryset = team_members(chain)
        self.fields["title"].widget.attrs["autofocus"] = True
        self.fields["about"].choices = self._about_choices()
        if self.instance.pk:
            self.fields["about"].initial = self._about_of(self.instance)

    @staticmethod
    def _about_of(action: Action) -> str:
        for kind in ("link", "contact", "comment"):
            if pk := getattr(action, f"{kind}_id"):
                return f"{kind}:{pk}"
        if action.question:
            return f"q:{action.question}"
        if action.customer_number:
            return f"customer:{action.customer_number}"
        return ""

    def _about_choices(self) -> list:
        chain = self.chain
        links = chain.links.select_related("actor").order_by("stage__position", "position")
        contacts = Contact.objects.filter(link__chain=chain).select_related("link__actor")
        comments = chain.comments.filter(parent__isnull=True).filter(
            models.Q(resolved_at__isnull=True) | models.Q(pk=self.instance.comment_id or 0)
        )
        choices = [
            ("", _("the chain as a whole")),
            (_("Actors"), [(f"link:{link.pk}", str(link.actor)) for link in links]),
            (
                _("Contact persons"),
                [(f"contact:{c.pk}", f"{c} ({c.link.actor})") for c in contacts],
            ),
            (_("Worksheet questions"), [(f"q:{q}", label) for q, label in Question.choices]),
            (
                _("Review comments"),
                [(f"comment:{c.pk}", Truncator(c.text).words(10)) for c in comments],
            ),
        ]
        number = self._customer_number()
        if number:
            label = _("Customer %(number)s") % {"number": number}
            choices.append((_("Customer"), [(f"customer:{number}", label)]))
        return choices

    def _customer_number(self) -> str:
        """The customer this form may be about: the one posted, given or stored (the chain
        app knows no customers, so the number is taken as it comes, within its length)."""
        value = str(self.data.get(self.add_prefix("about"), "") if self.is_bound else "")
        if not value:
            value = str(self.initial.get("about", "") or "")
        kind, _sep, number = value.partition(":")
        number = " ".join(strip_control(number).split())
        if kind == "customer" and 0 < len(number) <= 64:
            return number
        return self.instance.customer_number

    def clean(self):
        data = super().clean()
        kind, _sep, value = (data.get("about") or "").partition(":")
        targets = {"link": None, "contact": None, "question": "", "comment": None}
        targets["customer_number"] = value if kind == "customer" else ""
        if kind == "q":
            targets["question"] = value
        elif kind in ("link", "contact", "comment"):
            targets[kind] = int(value)
        for name, target in targets.items():
            setattr(self.instance, about_attname(name), target)
        return data

    def about_target(self) -> dict:
        """The about-fields for `actions.action_create`, after `is_valid`."""
        instance = self.instance
        return {
            "link": instance.link,
            "contact": instance.contact,
            "question": instance.question,
            "comment": instance.comment,
            "customer_number": instance.customer_number,
        }
