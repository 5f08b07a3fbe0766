"""Forms of support: tickets, replies, status, assignment, time spent, satisfaction, cost to serve."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.forms_work import FUTURE_SLACK, LocalDateTimeInput
from contacts.models import Contact
from crm.access import visible_users
from crm.models import User
from support.models import Channel, Priority, Status, TicketEvent

CONTACT_CHOICES_SHOWN = 20


def _assignees(user):
    return visible_users(user).order_by("first_name", "last_name", "username")


class ContactSearchForm(forms.Form):
    q = forms.CharField(label=_("Find the contact"), required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_find_%s")
        super().__init__(*args, **kwargs)


class TicketForm(forms.Form):
    """A new ticket. The contact must be one the user may see; only a few matches are offered
    (a search narrows them), but any visible contact's id is accepted."""

    contact = forms.ModelChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose one of your contacts.")},
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.PHONE)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL)
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("Nobody yet")
    )

    def __init__(self, *args, user, contact_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.visible_to(user)
        self.fields["contact"].widget.choices = [
            (contact.pk, f"{contact.display_name} · {contact.email}" if contact.email else contact.display_name)
            for contact in contact_choices
        ]
        self.fields["assignee"].queryset = _assignees(user)
        if not self.is_bound and "assignee" not in self.initial:
            self.initial["assignee"] = user.pk

    def clean_subject(self):
        subject = self.cleaned_data["subject"].strip()
        if not subject:
            raise forms.ValidationError(_("Say in a few words what the ticket is about."))
        return subject


class TicketEditForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, help_text=_("A new priority brings its own SLA due times.")
    )

    def clean_subject(self):
        subject = self.cleaned_data["subject"].strip()
        if not subject:
            raise forms.ValidationError(_("Say in a few words what the ticket is about."))
        return subject


class ReplyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (TicketEvent.Kind.REPLY, _("Reply to the customer")),
            (TicketEvent.Kind.CUSTOMER, _("Message from the customer")),
            (TicketEvent.Kind.NOTE, _("Internal note")),
        ],
        initial=TicketEvent.Kind.REPLY,
        help_text=_("The first reply to the customer is the ticket's first response."),
    )
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_reply_%s")
        super().__init__(*args, **kwargs)

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError(_("Write the message."))
        return body


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)

    def __init__(self, *args, ticket, **kwargs):
        kwargs.setdefault("auto_id", "id_status_%s")
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(status.value, status.label) for status in ticket.allowed_statuses]
        self.fields["status"].error_messages["invalid_choice"] = _(
            "A ticket that is “%(status)s” cannot move there."
        ) % {"status": ticket.get_status_display()}


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, user, **kwargs):
        kwargs.setdefault("auto_id", "id_assign_%s")
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = _assignees(user)


class TimeEntryForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=24 * 60)
    note = forms.CharField(label=_("What was done"), max_length=300, required=False)
    at = forms.DateTimeField(label=_("When"), widget=LocalDateTimeInput(), required=False, help_text=_("Empty: now."))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_time_%s")
        super().__init__(*args, **kwargs)

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at and at > timezone.now() + FUTURE_SLACK:
            raise forms.ValidationError(_("Time cannot be spent in the future."))
        return at


class SatisfactionForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        choices=[
            (5, _("5 – very satisfied")),
            (4, _("4 – satisfied")),
            (3, _("3 – neither")),
            (2, _("2 – dissatisfied")),
            (1, _("1 – very dissatisfied")),
        ],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a score from 1 to 5.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    end = forms.DateField(label=_("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end comes before the start."))
        return cleaned

    def period(self) -> tuple[datetime.date, datetime.date]:
        """The chosen days, or this month so far (in the user's time zone)."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start = data.get("start") or today.replace(day=1)
        end = data.get("end") or max(today, start)
        return start, end
