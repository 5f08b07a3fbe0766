"""Forms of the records: a contact or a company created and edited, consent, phase changes, referrals.

The forms check what a person typed and say what is wrong on the input itself; the services
(contacts.services) then write, normalise again and keep the history.
"""

import re
import urllib.parse

from django import forms
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from contacts.models import (
    Channel,
    Company,
    ConsentStatus,
    Contact,
    CustomerType,
    CustomField,
    Industry,
    Phase,
    SizeBand,
    SocialAccount,
    Source,
)
from contacts.normalise import normalise_email, phone_display, phone_or_error
from contacts.services import CONTACT_FIELDS
from crm.access import visible_users
from crm.context_processors import LANGUAGE_SELF_NAMES
from crm.models import User

# Inputs of one kind (emails, phones, social accounts) a form accepts at most; more is not a person.
MAX_ROWS = 20
# C0/C1 control characters but NUL (Django's own validator names that one), tab, newline, CR.
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MARKUP = re.compile(r"[<>]")
_HOST = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_INDIAN_PIN = re.compile(r"^[1-9][0-9]{5}$")
CONSENT_METHODS = [
    _("Web form"),
    _("Signed paper form"),
    _("Phone call"),
    _("In person"),
    _("Email reply"),
    _("WhatsApp message"),
]


def reject_control_characters(value: str) -> None:
    if _CONTROL.search(value or ""):
        raise forms.ValidationError(
            _("Remove the invisible control characters from this text (they often come with copied text)."),
            code="control_characters",
        )


def reject_markup(value: str) -> None:
    if _MARKUP.search(value or ""):
        raise forms.ValidationError(_("A name cannot contain “<” or “>”."), code="markup")


def tag_names(text: str) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _name_field(label, max_length: int, **kwargs) -> forms.CharField:
    return forms.CharField(label=label, max_length=max_length, required=False, validators=[reject_markup], **kwargs)


def _user_choices(actor, current=None):
    """Users the actor may give a record to; the record's current owner stays selectable."""
    users = visible_users(actor)
    if current is not None:
        users = User.objects.filter(Q(pk__in=users.values("pk")) | Q(pk=current.pk))
    return users.order_by("first_name", "last_name", "username")


def _row_count(data, prefix: str, existing: int) -> int:
    """How many inputs of a repeated kind to offer: what was posted, or what exists and one blank."""
    if data is not None:
        numbers = [
            int(match.group(1))
            for key in data
            if (match := re.fullmatch(rf"{prefix}_(\d{{1,2}})", key)) and int(match.group(1)) < MAX_ROWS
        ]
        return max(numbers, default=-1) + 1
    return min(max(existing + 1, 2), MAX_ROWS)


class RecordForm(forms.Form):
    """Every text input refuses control characters, with a message instead of silently losing them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_fields()
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(reject_control_characters)

    def add_fields(self) -> None:
        """Inputs that depend on the record or on the admin's settings."""

    def add_service_error(self, error: forms.ValidationError, aliases: dict[str, str] | None = None) -> None:
        """Put a service's ValidationError on the input it is about, else on the form."""
        aliases = aliases or {}
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            target = aliases.get(field, field)
            self.add_error(target if target in self.fields else None, messages)


class CustomNumberField(forms.DecimalField):
    """A number as people type it: 1,00,000 or 1 000 000 as well as 100000."""

    def to_python(self, value):
        if isinstance(value, str):
            value = value.replace(",", "").replace(" ", "").replace("\u00a0", "")
        return super().to_python(value)


def custom_form_field(custom_field: CustomField, current=None) -> forms.Field:
    label = custom_field.label
    if custom_field.kind == CustomField.Kind.NUMBER:
        return CustomNumberField(
            label=label,
            required=False,
            max_digits=24,
            decimal_places=6,
            widget=forms.TextInput({"inputmode": "decimal"}),
        )
    if custom_field.kind == CustomField.Kind.DATE:
        return forms.DateField(label=label, required=False, widget=forms.DateInput({"type": "date"}, format="%Y-%m-%d"))
    if custom_field.kind == CustomField.Kind.CHOICE:
        options = [str(option) for option in custom_field.choices or []]
        # A value the admin has since removed from the list stays, so the record can still be saved.
        if current not in (None, "") and str(current) not in options:
            options.append(str(current))
        return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *((o, o) for o in options)])
    return forms.CharField(label=label, max_length=500, required=False)


def custom_json_value(custom_field: CustomField, value):
    """A cleaned form value as it is kept in Contact.custom (the importer's forms): number, ISO date, text."""
    if value in (None, ""):
        return None
    if custom_field.kind == CustomField.Kind.NUMBER:
        return int(value) if value == value.to_integral_value() else float(value)
    if custom_field.kind == CustomField.Kind.DATE:
        return value.isoformat()
    return str(value)


# The contact's own fields in the form; custom fields and the owner have inputs of their own.
CONTACT_FORM_FIELDS = [field for field in CONTACT_FIELDS if field not in ("custom", "owner")]


def clean_country(value: str) -> str:
    country = value.strip().upper()
    if not _COUNTRY.match(country):
        raise forms.ValidationError(_("Give the two-letter ISO code of the country, e.g. IN."))
    return country


def check_postcode(form: forms.Form, cleaned: dict) -> None:
    """An Indian PIN code is six digits; elsewhere postcodes take too many forms to check."""
    postcode = (cleaned.get("postcode") or "").strip()
    if cleaned.get("country") == "IN" and postcode:
        postcode = postcode.replace(" ", "")
        if not _INDIAN_PIN.match(postcode):
            form.add_error("postcode", _("An Indian PIN code has six digits, e.g. 560001."))
    cleaned["postcode"] = postcode


class ContactForm(RecordForm):
    given_name = _name_field(_("Given name"), 150)
    family_name = _name_field(_("Family name"), 150)
    display_name = _name_field(
        _("Display name"), 300, help_text=_("How the CRM names them. Empty: the given and family name.")
    )
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        required=False,
        help_text=_("The name of a company you can see; suggestions appear as you type."),
    )
    job_title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    address_line = forms.CharField(
        label=_("Address"), max_length=300, required=False, widget=forms.Textarea({"rows": 2})
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    state = forms.CharField(label=_("State"), max_length=100, required=False)
    postcode = forms.CharField(label=_("PIN / postcode"), max_length=12, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="IN", help_text=_("ISO code, e.g. IN"))
    customer_type = forms.ChoiceField(label=_("Customer type"), choices=CustomerType.choices, initial=CustomerType.B2C)
    source = forms.ChoiceField(label=_("Source"), choices=[("", "—"), *Source.choices], required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), required=False)
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"), choices=[("", "—"), *Channel.choices], required=False
    )
    is_influencer = forms.BooleanField(
        label=_("Influencer"), required=False, help_text=_("Not necessarily a buyer, but drives sales.")
    )
    tags = forms.CharField(label=_("Tags"), max_length=500, required=False, help_text=_("Separated by commas."))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())

    def __init__(self, *args, user, contact: Contact | None = None, **kwargs):
        self.user = user
        self.contact = contact
        self.custom_fields = list(CustomField.objects.filter(active=True))
        self.existing = self._existing_of(contact)
        kwargs.setdefault("initial", self.existing["initial"])
        super().__init__(*args, **kwargs)

    @staticmethod
    def _existing_of(contact: Contact | None) -> dict:
        """The contact's values as the inputs show them (nothing for a new contact)."""
        if contact is None:
            return {"initial": {}, "emails": [], "phones": [], "social_accounts": []}
        initial = {field: getattr(contact, field) for field in CONTACT_FORM_FIELDS if field != "company"}
        # A display name that is just the two names is left empty, so it follows them when they change.
        derived = " ".join(part for part in (contact.given_name, contact.family_name) if part)
        initial["display_name"] = "" if contact.display_name == derived else contact.display_name
        initial["company"] = contact.company.name if contact.company_id else ""
        initial["owner"] = contact.owner_id
        initial["tags"] = ", ".join(tag.name for tag in contact.tags.all())
        emails = [email.email for email in contact.emails.all()]
        phones = [phone_display(phone.number) for phone in contact.phones.all()]
        socials = [(a.platform, a.handle) for a in sorted(contact.social_accounts.all(), key=lambda a: a.pk)]
        for n, email in enumerate(emails):
            initial[f"email_{n}"] = email
        for n, phone in enumerate(phones):
            initial[f"phone_{n}"] = phone
        for n, (platform, handle) in enumerate(socials):
            initial[f"social_platform_{n}"], initial[f"social_handle_{n}"] = platform, handle
        for key, value in (contact.custom or {}).items():
            initial[f"custom_{key}"] = value
        return {"initial": initial, "emails": emails, "phones": phones, "social_accounts": socials}

    def add_fields(self) -> None:
        data = self.data if self.is_bound else None
        self.fields["preferred_language"].choices = [
            ("", "—"),
            *((code, LANGUAGE_SELF_NAMES.get(code, name)) for code, name in settings.LANGUAGES),
        ]
        # The browser suggests companies as one types (htmx fills the <datalist>); the name is then looked up.
        self.fields["company"].widget.attrs.update(
            {
                "list": "company-options",
                "autocomplete": "off",
                "hx-get": reverse("contacts:company_suggest"),
                "hx-trigger": "input changed delay:300ms",
                "hx-target": "#company-options",
                "hx-swap": "innerHTML",
            }
        )
        owner = self.fields["owner"]
        owner.queryset = _user_choices(self.user, self.contact.owner if self.contact else None)
        if self.contact is None:
            owner.required = False
            owner.empty_label = _("By the assignment rules (else me)")
        for n in range(_row_count(data, "email", len(self.existing["emails"]))):
            self.fields[f"email_{n}"] = forms.CharField(
                label=_("Email") if n == 0 else _("Email %(number)s") % {"number": n + 1},
                max_length=254,
                required=False,
                widget=forms.EmailInput({"autocomplete": "off"}),
                help_text=_("The first one is the primary address.") if n == 0 else "",
            )
        for n in range(_row_count(data, "phone", len(self.existing["phones"]))):
            self.fields[f"phone_{n}"] = forms.CharField(
                label=_("Phone") if n == 0 else _("Phone %(number)s") % {"number": n + 1},
                max_length=32,
                required=False,
                widget=forms.TextInput({"type": "tel", "autocomplete": "off"}),
                help_text=_("Any usual format; a number without a country code is read as one of your region.")
                if n == 0
                else "",
            )
        for n in range(_row_count(data, "social_handle", len(self.existing["social_accounts"]))):
            self.fields[f"social_platform_{n}"] = forms.ChoiceField(
                label=_("Platform"), choices=[("", "—"), *SocialAccount.Platform.choices], required=False
            )
            self.fields[f"social_handle_{n}"] = forms.CharField(
                label=_("Handle or URL"), max_length=300, required=False
            )
        custom = self.contact.custom if self.contact is not None else {}
        for custom_field in self.custom_fields:
            self.fields[f"custom_{custom_field.key}"] = custom_form_field(
                custom_field, (custom or {}).get(custom_field.key)
            )

    # the groups of repeated inputs, for the template
    def _group(self, prefix: str) -> list:
        return [self[name] for name in self.fields if name.startswith(prefix)]

    @property
    def email_fields(self) -> list:
        return self._group("email_")

    @property
    def phone_fields(self) -> list:
        return self._group("phone_")

    @property
    def social_rows(self) -> list:
        return list(zip(self._group("social_platform_"), self._group("social_handle_"), strict=True))

    @property
    def custom_inputs(self) -> list:
        return self._group("custom_")

    def clean_company(self):
        name = " ".join(self.cleaned_data["company"].split())
        if not name:
            return None
        current = self.contact.company if self.contact is not None and self.contact.company_id else None
        if current is not None and current.name == name:
            return current
        matches = list(Company.objects.visible_to(self.user).filter(name__iexact=name).order_by("id")[:2])
        if not matches:
            raise forms.ValidationError(
                _("No company you can see is called “%(name)s”. Create the company first."), params={"name": name}
            )
        if len(matches) > 1:
            raise forms.ValidationError(
                _("Several companies you can see are called “%(name)s”; rename or merge them first."),
                params={"name": name},
            )
        return matches[0]

    def clean_country(self):
        return clean_country(self.cleaned_data["country"])

    def clean(self):
        cleaned = super().clean()
        for name in self.fields:
            value = cleaned.get(name)
            if not value or not name.startswith(("email_", "phone_")):
                continue
            try:
                cleaned[name] = normalise_email(value) if name.startswith("email_") else phone_or_error(value)
            except forms.ValidationError as error:
                self.add_error(name, error)
        for platform_field, handle_field in self.social_rows:
            platform, handle = cleaned.get(platform_field.name), (cleaned.get(handle_field.name) or "").strip()
            if handle and not platform:
                self.add_error(platform_field.name, _("Choose the platform of this account."))
            elif platform and not handle:
                self.add_error(handle_field.name, _("Give the handle or the address of the account."))
        names = [cleaned.get(name) for name in ("given_name", "family_name", "display_name")]
        if not any(name and name.strip() for name in names) and not self.has_error("given_name"):
            self.add_error("given_name", _("Give at least a given name or a family name."))
        check_postcode(self, cleaned)
        return cleaned

    def service_arguments(self) -> dict:
        """The cleaned form as the keyword arguments of services.contact_save."""
        data = self.cleaned_data
        return {
            "fields": {name: data[name] for name in CONTACT_FORM_FIELDS},
            "owner": data.get("owner"),
            "emails": [data[field.name] for field in self.email_fields if data.get(field.name)],
            "phones": [data[field.name] for field in self.phone_fields if data.get(field.name)],
            "tags": tag_names(data.get("tags", "")),
            "social_accounts": [
                (data[platform.name], data[handle.name].strip())
                for platform, handle in self.social_rows
                if data.get(platform.name) and data.get(handle.name, "").strip()
            ],
            "custom": {
                custom_field.key: custom_json_value(custom_field, data.get(f"custom_{custom_field.key}"))
                for custom_field in self.custom_fields
            },
        }


class CompanyForm(RecordForm):
    name = forms.CharField(label=_("Name"), max_length=200, validators=[reject_markup])
    domain = forms.CharField(
        label=_("Website"), max_length=253, required=False, help_text=_("e.g. example.com or https://www.example.com")
    )
    industry = forms.ModelChoiceField(label=_("Industry"), queryset=Industry.objects.all(), required=False)
    size_band = forms.ChoiceField(label=_("Size"), choices=[("", "—"), *SizeBand.choices], required=False)
    gstin = forms.CharField(
        label=_("GSTIN"), max_length=20, required=False, help_text=_("15 characters, e.g. 29ABCDE1234F1ZW.")
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=32, required=False, widget=forms.TextInput({"type": "tel", "autocomplete": "off"})
    )
    address_line = forms.CharField(
        label=_("Address"), max_length=300, required=False, widget=forms.Textarea({"rows": 2})
    )
    city = forms.CharField(label=_("City"), max_length=100, required=False)
    state = forms.CharField(label=_("State"), max_length=100, required=False)
    postcode = forms.CharField(label=_("PIN / postcode"), max_length=12, required=False)
    country = forms.CharField(label=_("Country"), max_length=2, initial="IN", help_text=_("ISO code, e.g. IN"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=User.objects.none())
    tags = forms.CharField(label=_("Tags"), max_length=500, required=False, help_text=_("Separated by commas."))

    FIELDS = [
        "name",
        "domain",
        "industry",
        "size_band",
        "gstin",
        "phone",
        "address_line",
        "city",
        "state",
        "postcode",
        "country",
    ]

    def __init__(self, *args, user, company: Company | None = None, **kwargs):
        self.user = user
        self.company = company
        if company is not None:
            initial = {field: getattr(company, field) for field in self.FIELDS}
            initial["industry"] = company.industry_id
            initial["phone"] = phone_display(company.phone) if company.phone else ""
            initial["owner"] = company.owner_id
            initial["tags"] = ", ".join(tag.name for tag in company.tags.all())
            kwargs.setdefault("initial", initial)
        else:
            kwargs.setdefault("initial", {"owner": user.pk})
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        self.fields["owner"].queryset = _user_choices(self.user, self.company.owner if self.company else None)

    def clean_domain(self):
        text = self.cleaned_data["domain"].strip().lower()
        if not text:
            return ""
        host = urllib.parse.urlsplit(text if "//" in text else f"//{text}").hostname or ""
        host = host.removeprefix("www.")
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = ""
        if not _HOST.match(ascii_host):
            raise forms.ValidationError(_("Give a website like example.com."))
        return host

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        return phone_or_error(value) if value.strip() else ""

    def clean_country(self):
        return clean_country(self.cleaned_data["country"])

    def clean(self):
        cleaned = super().clean()
        check_postcode(self, cleaned)
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "fields": {name: data[name] for name in self.FIELDS},
            "owner": data["owner"],
            "tags": tag_names(data.get("tags", "")),
        }


class ConsentForm(RecordForm):
    """Grant or withdraw in the same form: one button each, the same few inputs."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    status = forms.ChoiceField(
        label=_("Consent"),
        choices=ConsentStatus.choices,
        error_messages={"required": _("Press “Grant” or “Withdraw”.")},
    )
    method = forms.CharField(
        label=_("How"),
        max_length=100,
        help_text=_("How the person said it, e.g. web form, signed paper form, phone call."),
        error_messages={"required": _("Say how the person gave or withdrew consent.")},
    )
    wording = forms.CharField(
        label=_("Wording shown"),
        required=False,
        max_length=2000,
        widget=forms.Textarea({"rows": 2}),
        help_text=_("The words the person agreed to, or asked to stop."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_consent_%s")
        super().__init__(*args, **kwargs)
        self.fields["method"].widget.attrs["list"] = "consent-methods"


class PhaseChangeForm(RecordForm):
    to = forms.ChoiceField(label=_("New phase"), choices=Phase.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        error_messages={"required": _("Say why the phase changes: the history keeps it.")},
    )

    def __init__(self, *args, contact: Contact, **kwargs):
        kwargs.setdefault("auto_id", "id_phase_%s")
        self.contact = contact
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(value, label) for value, label in Phase.choices if value != contact.phase]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("Say why the phase changes: the history keeps it."))
        return reason


class ReferralForm(RecordForm):
    """Who a contact referred or influences: one of the contacts or companies the user may see."""

    target = forms.CharField(
        label=_("Referred contact or company"),
        error_messages={"required": _("Choose a contact or a company from the search results.")},
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, user, referrer: Contact, **kwargs):
        kwargs.setdefault("auto_id", "id_referral_%s")
        self.user = user
        self.referrer = referrer
        super().__init__(*args, **kwargs)

    def clean_target(self):
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        model = {"contact": Contact, "company": Company}.get(kind)
        record = None
        if model is not None and pk.isdigit():
            record = model.objects.visible_to(self.user).filter(pk=int(pk)).first()
        if record is None:
            raise forms.ValidationError(_("Choose a contact or a company from the search results."))
        if record == self.referrer:
            raise forms.ValidationError(_("A contact cannot refer themselves."))
        return record

    def service_arguments(self) -> dict:
        target = self.cleaned_data["target"]
        return {
            "contact": target if isinstance(target, Contact) else None,
            "company": target if isinstance(target, Company) else None,
            "note": self.cleaned_data["note"],
        }
