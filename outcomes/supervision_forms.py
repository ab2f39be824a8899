"""Forms for the caseload dashboard's filters, the lists behind its numbers, supervision sessions and
safeguarding decisions. They validate and normalise; services save."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from crispy_forms.layout import HTML, Div, Layout
from django import forms
from django.utils import timezone
from django.utils.safestring import SafeString

from clients.models import Case, SafeguardingOutcome
from linkwork import compiled
from linkwork.accounts.access import access_for, link_worker_title
from linkwork.accounts.models import Organisation, User
from linkwork.forms import DateInputField, Field, Fieldset, Submit, form_helper
from linkwork.forms.kept import asked_of, drawn_form_html
from outcomes import supervision_selectors as selectors
from outcomes.models import Wellbeing
from outcomes.supervision_services import ActionDraft

UNASSIGNED = "none"
OTHER_SOURCES = "other"
ACTION_SLOTS = (1, 2, 3)


class DashboardFilterForm(forms.Form):
    """Practice, link worker and period. Unknown values are errors, so a link to another service's worker
    shows nothing."""

    practice = forms.ChoiceField(label="GP practice", required=False)
    worker = forms.ChoiceField(required=False)
    period = forms.ChoiceField(label="Period", choices=selectors.Period.choices, required=False)

    def __init__(self, *args: Any, user: Any, allow_unassigned: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Names for the lists; the chosen practice or link worker is used by id and name only. Both statements are
        # kept a process and asked with the user's services (linkwork.compiled): the dashboard reads them on every
        # look, and building and compiling them took longer than running them.
        service_ids = tuple(sorted(selectors.supervision_service_ids(user)))
        practices, workers = [], []
        if service_ids:
            practices = compiled.instances(
                ("outcomes.filter_practices", len(service_ids)),
                lambda *ids: selectors.practices_of(set(ids)).only("id", "name"),
                inputs=service_ids,
            )
            workers = compiled.instances(
                ("outcomes.filter_workers", len(service_ids)),
                lambda *ids: selectors.workers_of(ids).only("id", "full_name", "email"),
                inputs=service_ids,
            )
        self.practices = {str(p.pk): p for p in practices}
        self.workers = {str(w.pk): w for w in workers}
        title = link_worker_title(access_for(user).services(*selectors.SUPERVISION_ROLES))
        practice_choices = [("", "All practices"), *((k, p.name) for k, p in self.practices.items())]
        if allow_unassigned:
            practice_choices.append((OTHER_SOURCES, "Other sources"))
        self.fields["practice"].choices = practice_choices
        worker_choices = [("", f"All {title.lower()}s"), *((k, w.full_name) for k, w in self.workers.items())]
        if allow_unassigned:
            worker_choices.append((UNASSIGNED, "Not assigned to anyone"))
        self.fields["worker"].choices = worker_choices
        self.fields["worker"].label = title
        self.helper = form_helper(method="get")
        self.helper.form_class = "lw-filters"
        self.helper.layout = Layout(
            "practice", "worker", "period", Submit("apply", "Apply filters", variant="secondary")
        )

    def html(self) -> SafeString:
        """The form as drawn, kept a process for the same lists and choices (linkwork.forms.kept): the lists
        are read every time, and drawing their options through the crispy pack was a millisecond a look."""
        fields = self.fields
        key = (
            tuple(fields["practice"].choices),
            tuple(fields["worker"].choices),
            fields["worker"].label,
            asked_of(self),
        )
        return drawn_form_html(self, key)

    def clean_practice(self) -> Organisation | str | None:
        value = self.cleaned_data.get("practice") or ""
        if value == OTHER_SOURCES:
            return OTHER_SOURCES
        return self.practices[value] if value else None

    def clean_worker(self) -> User | str | None:
        value = self.cleaned_data.get("worker") or ""
        if value == UNASSIGNED:
            return UNASSIGNED
        return self.workers[value] if value else None

    def to_filter(self) -> selectors.DashboardFilter:
        """The filters chosen (the defaults for an unbound form)."""
        if not self.is_bound:
            return selectors.DashboardFilter()
        data = self.cleaned_data
        worker, practice = data.get("worker"), data.get("practice")
        return selectors.DashboardFilter(
            period=data.get("period") or selectors.Period.THIS_MONTH,
            practice=practice if isinstance(practice, Organisation) else None,
            worker=worker if isinstance(worker, User) else None,
            unassigned=worker == UNASSIGNED,
            other_sources=practice == OTHER_SOURCES,
        )


class DrillDownForm(DashboardFilterForm):
    """The list behind one number: the dashboard's filters, the measure and, for referrals, a month."""

    measure = forms.ChoiceField(choices=[(k, m.label) for k, m in selectors.MEASURES.items()])
    month = forms.CharField(required=False, max_length=7)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, allow_unassigned=True, **kwargs)

    def clean_month(self) -> dt.date | None:
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise forms.ValidationError("Give the month as YYYY-MM")
        return dt.date(int(value[:4]), int(value[5:]), 1)


class CaseChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Case) -> str:
        return obj.client.full_name


class SupervisionSessionForm(forms.Form):
    held_on = DateInputField(
        label="Date of the session",
        not_future=True,
        error_name="Date of the session",
        help_text="For example, 15 3 2026",
    )
    cases = CaseChoiceField(
        label="Cases discussed",
        queryset=Case.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Cases flagged for supervision are ticked already. Discussing a case clears its flag.",
    )
    concerns = forms.CharField(
        label="Concerns",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="About cases, risks or the caseload. Seen by the link worker.",
    )
    wellbeing = forms.ChoiceField(
        label="How is the link worker?",
        choices=Wellbeing.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the link worker is"},
    )
    wellbeing_notes = forms.CharField(
        label="Wellbeing notes",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Workload, support they need, time off. Seen by the link worker.",
    )

    def __init__(
        self, *args: Any, worker: User, supervisor: User, cases: list[Case], preselect: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.worker, self.supervisor = worker, supervisor
        self.fields["cases"].queryset = Case.objects.filter(pk__in=[c.pk for c in cases]).select_related("client")
        self.fields["cases"].choices = [(str(c.pk), c.client.full_name) for c in cases]
        owners = [(str(worker.pk), worker.full_name), (str(supervisor.pk), supervisor.full_name)]
        for n in ACTION_SLOTS:
            self.fields[f"action_{n}"] = forms.CharField(label="What will be done", max_length=300, required=False)
            self.fields[f"owner_{n}"] = forms.ChoiceField(
                label="Who will do it", choices=owners, widget=forms.RadioSelect, required=False
            )
            self.fields[f"due_{n}"] = DateInputField(
                label="By when", error_name=f"Action {n} date", required=False, help_text="For example, 15 3 2027"
            )
        if not self.is_bound:
            self.initial.setdefault("held_on", timezone.localdate())
            flagged = [str(c.pk) for c in cases if getattr(c, "open_flags", None)]
            self.initial["cases"] = sorted({*flagged, *(p for p in preselect if p in {str(c.pk) for c in cases})})
        self.helper = form_helper()
        self.helper.layout = Layout(
            "held_on",
            Field("cases", hints={str(c.pk): _case_hint(c) for c in cases}),
            "concerns",
            Fieldset("Link worker's wellbeing", "wellbeing", "wellbeing_notes"),
            HTML('<h2 class="nhsuk-heading-m">Actions agreed</h2>'),
            HTML('<p class="nhsuk-hint">Up to three. Leave the rest empty.</p>'),
            *(
                Fieldset(
                    f"Action {n}",
                    f"action_{n}",
                    Field(f"owner_{n}", inline=True, small=True),
                    f"due_{n}",
                    legend_size="s",
                )
                for n in ACTION_SLOTS
            ),
            Div(Submit("save", "Save supervision record"), css_class="nhsuk-u-margin-top-4"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        drafts = []
        owners = {str(self.worker.pk): self.worker, str(self.supervisor.pk): self.supervisor}
        for n in ACTION_SLOTS:
            what = (data.get(f"action_{n}") or "").strip()
            owner, due = data.get(f"owner_{n}"), data.get(f"due_{n}")
            if not what:
                if (owner or due) and f"due_{n}" not in self.errors:
                    self.add_error(f"action_{n}", f"Say what action {n} is, or clear its owner and date")
                continue
            if not owner:
                self.add_error(f"owner_{n}", f"Select who will do action {n}")
            if not due and f"due_{n}" not in self.errors:
                self.add_error(f"due_{n}", f"Enter when action {n} is due")
            if owner and due:
                drafts.append(ActionDraft(what=what, owner=owners[owner], due_on=due))
        data["actions"] = drafts
        return data


def _case_hint(case: Case) -> str:
    flags = getattr(case, "open_flags", None) or []
    parts = [f"Flagged: “{flag.question}”" for flag in flags]
    counted = getattr(case, "counted", None)
    if counted is not None:
        contacts = "No contacts" if not counted else f"{counted} contact{'' if counted == 1 else 's'}"
        parts.append(f"{contacts} since it started on {case.start_date.day} {case.start_date:%B %Y}")
    return ". ".join(parts)


class SafeguardingDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision",
        choices=SafeguardingOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the decision"},
    )
    note = forms.CharField(
        label="Note",
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Needed for \u201cOther\u201d. Include any local authority reference.",
    )

    def __init__(self, *args: Any, correcting: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.correcting = correcting
        if correcting:
            self.fields["decision"].label = "Corrected decision"
            self.fields["note"].label = "Why is the decision being corrected?"
            self.fields["note"].help_text = "The earlier decision stays on record, marked as corrected."
        self.helper = form_helper("Record the correction" if correcting else "Record the decision")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        note = (data.get("note") or "").strip()
        if self.correcting and not note:
            self.add_error("note", "Say what was wrong with the earlier decision")
        elif data.get("decision") == SafeguardingOutcome.OTHER and not note:
            self.add_error("note", "Describe the decision")
        return data
