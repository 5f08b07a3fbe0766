"""Forms of the daily work: logging an interaction, tasks, the timeline filter, handing records over."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import ActivityKind, Direction
from crm.access import visible_owner_ids, visible_users
from crm.models import User

# What a person logs by hand; phase changes, tasks done and system items are written by the CRM.
LOGGABLE_KINDS = [
    ActivityKind.CALL,
    ActivityKind.MEETING,
    ActivityKind.EMAIL,
    ActivityKind.SMS,
    ActivityKind.WHATSAPP,
    ActivityKind.SOCIAL,
    ActivityKind.VISIT,
    ActivityKind.NOTE,
]
# A little slack for a clock that runs ahead of the server's.
FUTURE_SLACK = datetime.timedelta(minutes=5)
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _now_to_the_minute() -> datetime.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


class LocalDateTimeInput(forms.DateTimeInput):
    """The browser's date-time picker; the value is read in the user's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=DATETIME_FORMAT)


class ActivityLogForm(forms.Form):
    """Log an interaction; ids prefixed, so the form can sit on a page with other forms."""

    kind = forms.ChoiceField(label=_("Kind"), choices=[(kind.value, kind.label) for kind in LOGGABLE_KINDS])
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[
            ("", _("—")),
            (Direction.OUTBOUND, Direction.OUTBOUND.label),
            (Direction.INBOUND, Direction.INBOUND.label),
        ],
        required=False,
    )
    at = forms.DateTimeField(label=_("When"), widget=LocalDateTimeInput(), initial=_now_to_the_minute)
    summary = forms.CharField(label=_("Summary"), max_length=300)
    outcome = forms.CharField(label=_("Outcome"), max_length=200, required=False)
    body = forms.CharField(label=_("Details"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_log_%s")
        super().__init__(*args, **kwargs)

    def clean_summary(self):
        summary = self.cleaned_data["summary"].strip()
        if not summary:
            raise forms.ValidationError(_("Say in a few words what happened."))
        return summary

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at > timezone.now() + FUTURE_SLACK:
            raise forms.ValidationError(_("An interaction cannot be in the future; plan it as a task."))
        return at


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_at = forms.DateTimeField(label=_("Due"), widget=LocalDateTimeInput())
    assignee = forms.ModelChoiceField(label=_("Assignee"), queryset=User.objects.none())
    remind_at = forms.DateTimeField(
        label=_("Remind at"),
        widget=LocalDateTimeInput(),
        required=False,
        help_text=_("Empty: at the due time."),
    )
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", "id_task_%s")
        super().__init__(*args, **kwargs)
        # Only people whose work the user sees; anyone else is refused as "not one of the choices".
        self.fields["assignee"].queryset = visible_users(user).order_by("first_name", "last_name", "username")
        if not self.is_bound and "assignee" not in self.initial:
            self.initial["assignee"] = user.pk

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("Give the task a title."))
        return title

    def clean(self):
        cleaned = super().clean()
        due_at, remind_at = cleaned.get("due_at"), cleaned.get("remind_at")
        if due_at and remind_at and remind_at > due_at:
            self.add_error("remind_at", _("The reminder cannot come after the due time."))
        return cleaned


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Show"), choices=[("", _("Everything")), *ActivityKind.choices], required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_timeline_%s")
        super().__init__(*args, **kwargs)


class ReassignForm(forms.Form):
    from_user = forms.ModelChoiceField(
        label=_("Records of"), queryset=User.objects.none(), help_text=_("Also people who have left already.")
    )
    to_user = forms.ModelChoiceField(label=_("Hand them to"), queryset=User.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The one who leaves may be deactivated already; the one who takes over must be active.
        owner_ids = visible_owner_ids(user)
        leavers = User.objects.all() if owner_ids is None else User.objects.filter(pk__in=owner_ids)
        self.fields["from_user"].queryset = leavers.order_by("first_name", "last_name", "username")
        self.fields["to_user"].queryset = visible_users(user).order_by("first_name", "last_name", "username")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("from_user") and cleaned.get("from_user") == cleaned.get("to_user"):
            self.add_error("to_user", _("Choose a different user to hand the records to."))
        return cleaned


class HandOverForm(forms.Form):
    """The admin's "Deactivate and hand over records": who takes over."""

    to_user = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())

    def __init__(self, *args, leaving, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = (
            User.objects.filter(is_active=True)
            .exclude(pk__in=[user.pk for user in leaving])
            .order_by("first_name", "last_name", "username")
        )
