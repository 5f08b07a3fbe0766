"""The client database: people, companies, their channels and consent, lifecycle, timeline,
tasks, segments of work (saved views), imports, duplicates and the history of every change."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.access import OwnedQuerySet
from crm.lookups import INDIC, SearchKey

User = settings.AUTH_USER_MODEL


class Phase(models.TextChoices):
    """The phases of a customer relationship (DESIGN.md)."""

    SELECTION = "selection", _("Selection")
    ACQUISITION = "acquisition", _("Acquisition")
    RETENTION = "retention", _("Retention")
    EXTENSION = "extension", _("Extension")
    CHURNED = "churned", _("Churned")


class CustomerType(models.TextChoices):
    B2B = "b2b", _("Business (B2B)")
    B2C = "b2c", _("Consumer (B2C)")


class Source(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event")
    SOCIAL = "social", _("Social media")
    WALK_IN = "walk_in", _("Walk-in")
    PHONE = "phone", _("Phone enquiry")
    PARTNER = "partner", _("Partner")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    """Ways of reaching a person; consent is kept per channel."""

    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    PHONE = "phone", _("Phone")


class SizeBand(models.TextChoices):
    MICRO = "1-9", _("1–9 people")
    SMALL = "10-49", _("10–49 people")
    MEDIUM = "50-249", _("50–249 people")
    LARGE = "250+", _("250 or more")


class Industry(models.Model):
    """Admin-editable list of industries."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Address(models.Model):
    """Postal address fields shared by people and companies."""

    address_line = models.CharField(_("address"), max_length=300, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=100, blank=True)
    postcode = models.CharField(_("PIN / postcode"), max_length=12, blank=True)
    country = models.CharField(_("country"), max_length=2, default="IN", help_text=_("ISO code, e.g. IN"))

    class Meta:
        abstract = True


class Company(Address):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("website domain"), max_length=253, blank=True)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    size_band = models.CharField(_("size"), max_length=8, choices=SizeBand.choices, blank=True)
    gstin = models.CharField(_("GSTIN"), max_length=15, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    owner = models.ForeignKey(User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="companies")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="companies")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        indexes = [
            # the company list sorted by name (keyset on name, id)
            models.Index(fields=["name", "id"], name="company_name_idx"),
            models.Index(fields=["owner", "name", "id"], name="company_owner_name_idx"),
            # the company list sorted by last activity
            models.Index(fields=["-last_activity_at", "-id"], name="company_activity_idx"),
            # the search box: part of a name in any script, or of the domain
            GinIndex(fields=["name"], name="company_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["domain"], name="company_domain_trgm", opclasses=["gin_trgm_ops"]),
            # … and a name in an Indic script, whose words pg_trgm keeps whole only in search_key (crm.lookups)
            GinIndex(
                OpClass(SearchKey("name"), name="gin_trgm_ops"),
                name="company_name_key_trgm",
                condition=Q(name__regex=INDIC),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(gstin="") | Q(gstin__regex=r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"),
                name="company_gstin_format",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:company_detail", args=[self.pk])


class Contact(Address):
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    display_name = models.CharField(_("display name"), max_length=300)
    # The primary email and phone, copied from ContactEmail/ContactPhone for lists and search.
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("In E.164 form, e.g. +919876543210."))
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    customer_type = models.CharField(
        _("customer type"), max_length=3, choices=CustomerType.choices, default=CustomerType.B2C
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=16, choices=Channel.choices, blank=True)
    is_influencer = models.BooleanField(
        _("influencer"), default=False, help_text=_("Not necessarily a buyer, but drives sales.")
    )
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.SELECTION)
    phase_changed_at = models.DateTimeField(_("in this phase since"), default=timezone.now)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    owner = models.ForeignKey(User, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contacts")
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    # Set when the row came from an import: a hash of the file's line, so a re-run skips it.
    import_key = models.CharField(max_length=64, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["display_name", "id"]
        indexes = [
            # contact list sorted by name, by last activity or by creation (keyset), per owner or for all
            models.Index(fields=["owner", "display_name", "id"], name="contact_owner_name_idx"),
            models.Index(fields=["owner", "-last_activity_at", "-id"], name="contact_owner_activity_idx"),
            models.Index(fields=["display_name", "id"], name="contact_name_idx"),
            models.Index(fields=["-last_activity_at", "-id"], name="contact_activity_idx"),
            models.Index(fields=["-created_at", "-id"], name="contact_created_idx"),
            # the list filtered by phase and sorted by last activity; dashboard counts per phase
            models.Index(fields=["phase", "-last_activity_at", "-id"], name="contact_phase_activity_idx"),
            models.Index(fields=["phase", "owner"], name="contact_phase_owner_idx"),
            # the search box: part of a name in any script, or of an email
            GinIndex(fields=["display_name"], name="contact_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["email"], name="contact_email_trgm", opclasses=["gin_trgm_ops"]),
            # … and a name in an Indic script, whose words pg_trgm keeps whole only in search_key (crm.lookups)
            GinIndex(
                OpClass(SearchKey("display_name"), name="gin_trgm_ops"),
                name="contact_name_key_trgm",
                condition=Q(display_name__regex=INDIC),
            ),
            models.Index(fields=["phone"], name="contact_phone_idx"),
            models.Index(fields=["company"], name="contact_company_idx"),
            # filters on custom fields (JSON containment)
            GinIndex(fields=["custom"], name="contact_custom_gin", opclasses=["jsonb_path_ops"]),
            # stale records of an owner ("needs attention")
            models.Index(fields=["owner", "updated_at"], name="contact_owner_updated_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["import_key"], condition=~Q(import_key=""), name="contact_import_key_uniq"),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("contacts:contact_detail", args=[self.pk])


class ContactEmail(models.Model):
    # db_index=False: contactemail_uniq (contact, email) serves the lookups by contact
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails", db_index=False)
    email = models.EmailField(_("email"), max_length=254, help_text=_("Stored lower-cased."))
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("email address")
        verbose_name_plural = _("email addresses")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["email"], name="contactemail_email_idx")]  # duplicates, search
        constraints = [
            models.UniqueConstraint(fields=["contact", "email"], name="contactemail_uniq"),
            models.UniqueConstraint(fields=["contact"], condition=Q(is_primary=True), name="contactemail_one_primary"),
        ]

    def __str__(self):
        return self.email


class ContactPhone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        OTHER = "other", _("Other")

    # db_index=False: contactphone_uniq (contact, number) serves the lookups by contact
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones", db_index=False)
    number = models.CharField(_("phone"), max_length=32, help_text=_("E.164, e.g. +919876543210"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.MOBILE)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("phone number")
        verbose_name_plural = _("phone numbers")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["number"], name="contactphone_number_idx")]  # duplicates, search
        constraints = [
            models.UniqueConstraint(fields=["contact", "number"], name="contactphone_uniq"),
            models.UniqueConstraint(fields=["contact"], condition=Q(is_primary=True), name="contactphone_one_primary"),
        ]

    def __str__(self):
        return self.number


class SocialAccount(models.Model):
    class Platform(models.TextChoices):
        LINKEDIN = "linkedin", "LinkedIn"
        INSTAGRAM = "instagram", "Instagram"
        FACEBOOK = "facebook", "Facebook"
        X = "x", "X"
        YOUTUBE = "youtube", "YouTube"
        OTHER = "other", _("Other")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="social_accounts")
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    handle = models.CharField(_("handle or URL"), max_length=300)

    class Meta:
        verbose_name = _("social account")
        verbose_name_plural = _("social accounts")
        constraints = [models.UniqueConstraint(fields=["contact", "platform", "handle"], name="social_uniq")]

    def __str__(self):
        return f"{self.get_platform_display()}: {self.handle}"


class Referral(models.Model):
    """An influencer (or any contact) who referred or influences a contact or a company."""

    referrer = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="referrals_made")
    referred_contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="referred_by"
    )
    referred_company = models.ForeignKey(
        Company, on_delete=models.CASCADE, null=True, blank=True, related_name="referred_by"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(
                condition=Q(referred_contact__isnull=False) ^ Q(referred_company__isnull=False),
                name="referral_one_target",
            ),
            models.CheckConstraint(condition=~Q(referrer=models.F("referred_contact")), name="referral_not_self"),
            models.UniqueConstraint(fields=["referrer", "referred_contact"], name="referral_contact_uniq"),
            models.UniqueConstraint(fields=["referrer", "referred_company"], name="referral_company_uniq"),
        ]

    def __str__(self):
        return f"{self.referrer} → {self.referred_contact or self.referred_company}"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Consent(models.Model):
    """The current consent of a contact for one channel; its history is in ConsentEvent."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    changed_at = models.DateTimeField(_("since"), default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["contact", "channel"], name="consent_uniq")]
        indexes = [models.Index(fields=["channel", "status", "contact"], name="consent_filter_idx")]

    def __str__(self):
        return f"{self.contact}: {self.channel} {self.status}"


class ConsentEvent(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="consent_events")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=ConsentStatus.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    method = models.CharField(_("how"), max_length=100, help_text=_("e.g. web form, signed paper form, phone call"))
    wording = models.TextField(_("wording shown"), blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("consent change")
        verbose_name_plural = _("consent history")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["contact", "-at"], name="consentevent_contact_idx")]

    def __str__(self):
        return f"{self.contact}: {self.channel} {self.status} at {self.at:%Y-%m-%d}"


class PhaseChange(models.Model):
    """Every move of a contact between lifecycle phases, for funnels, cohorts and churn."""

    # db_index=False: phasechange_contact_idx (contact, at) serves the lookups by contact
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phase_changes", db_index=False)
    from_phase = models.CharField(_("from"), max_length=16, choices=Phase.choices, blank=True)
    to_phase = models.CharField(_("to"), max_length=16, choices=Phase.choices)
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(_("rule"), max_length=100, blank=True, help_text=_("The automatic rule that moved it."))
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("phase change")
        verbose_name_plural = _("phase changes")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["contact", "-at"], name="phasechange_contact_idx"),
            # funnels and cohorts: moves into a phase within a month
            models.Index(fields=["to_phase", "at"], name="phasechange_to_at_idx"),
        ]

    def __str__(self):
        return f"{self.contact}: {self.from_phase or '—'} → {self.to_phase}"


class ActivityKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SOCIAL = "social", _("Social message")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")
    PHASE = "phase", _("Phase change")
    TASK = "task", _("Task")
    # added by the sales, support, loyalty and campaign apps
    ORDER = "order", _("Order")
    DEAL = "deal", _("Deal")
    TICKET = "ticket", _("Support ticket")
    LOYALTY = "loyalty", _("Loyalty")
    CAMPAIGN = "campaign", _("Campaign message")
    SYSTEM = "system", _("System")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    NONE = "", _("—")


class Activity(models.Model):
    """One item of the timeline of a contact and/or a company."""

    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    at = models.DateTimeField(_("when"), default=timezone.now)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    by = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(_("summary"), max_length=300)
    body = models.TextField(_("details"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)
    # What later issues link here (an order, a deal, a ticket, a campaign message): "app.model:id".
    ref = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("timeline item")
        verbose_name_plural = _("timeline items")
        ordering = ["-at", "-id"]
        indexes = [
            # the timeline of a contact / company, newest first, optionally of one kind
            models.Index(fields=["contact", "-at", "-id"], name="activity_contact_idx"),
            models.Index(fields=["company", "-at", "-id"], name="activity_company_idx"),
            models.Index(fields=["contact", "kind", "-at"], name="activity_contact_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(contact__isnull=False) | Q(company__isnull=False), name="activity_has_subject"
            ),
        ]

    def __str__(self):
        return self.summary


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class TaskQuerySet(OwnedQuerySet):
    owner_field = "assignee"


class Task(models.Model):
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"))
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent"), null=True, blank=True, editable=False)
    # Set by the email task in the transaction that sends the reminder email (contacts.reminders).
    reminder_emailed_at = models.DateTimeField(_("reminder emailed"), null=True, blank=True, editable=False)
    assignee = models.ForeignKey(User, verbose_name=_("assignee"), on_delete=models.PROTECT, related_name="tasks")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks")
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_at", "id"]
        indexes = [
            # "My day": a user's open tasks by due time
            models.Index(fields=["assignee", "status", "due_at"], name="task_my_day_idx"),
            # the reminder job: open tasks whose reminder is due and not yet sent
            models.Index(
                fields=["remind_at"],
                name="task_reminder_due_idx",
                condition=Q(status="open", reminder_sent_at__isnull=True, remind_at__isnull=False),
            ),
            models.Index(fields=["contact", "status"], name="task_contact_idx"),
            # the reminder job's sweep: reminders claimed whose email has not gone out yet
            models.Index(
                fields=["reminder_sent_at"],
                name="task_reminder_unsent_idx",
                condition=Q(status="open", reminder_sent_at__isnull=False, reminder_emailed_at__isnull=True),
            ),
        ]

    def __str__(self):
        return self.title


class Notification(models.Model):
    """An in-app notice to one user (task reminders, reassignments, finished imports)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # one notice per event, even if the job that sends it runs twice
    key = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notification_once")]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notification_unread_idx"),
            # the notifications page: a user's notices, newest first (keyset on created_at, id)
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
        ]

    def __str__(self):
        return self.text


class FieldChange(models.Model):
    """One field of a contact or company changed: who, when, old → new."""

    record_type = models.CharField(max_length=16)  # "contact" or "company"
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=64)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    changed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=64, blank=True, help_text=_("form, import #12, merge, API, …"))

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("change history")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["record_type", "record_id", "-changed_at"], name="fieldchange_record_idx")]

    def __str__(self):
        return f"{self.record_type} {self.record_id}: {self.field}"


class CustomField(models.Model):
    """An admin-defined extra field of contacts, stored in Contact.custom under `key`."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True, help_text=_('For "choice": a list of options.'))
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class AssignmentRule(models.Model):
    """Who gets a new lead: applied on create and import, first matching rule (by position) wins."""

    class Match(models.TextChoices):
        ANY = "any", _("Every new lead")
        STATE = "state", _("State is")
        CITY = "city", _("City is")
        INDUSTRY = "industry", _("Company industry is")
        SOURCE = "source", _("Source is")

    class Strategy(models.TextChoices):
        USER = "user", _("Assign to one user")
        ROUND_ROBIN = "round_robin", _("Round-robin within a team")

    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    match = models.CharField(_("when"), max_length=10, choices=Match.choices, default=Match.ANY)
    value = models.CharField(_("value"), max_length=100, blank=True, help_text=_("Compared without regard to case."))
    strategy = models.CharField(_("then"), max_length=12, choices=Strategy.choices)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    team = models.ForeignKey("crm.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    # Round-robin: how many leads this rule has handed out (next member = counter mod members).
    counter = models.PositiveBigIntegerField(default=0, editable=False)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("lead assignment rule")
        verbose_name_plural = _("lead assignment rules")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(strategy="user", user__isnull=False) | Q(strategy="round_robin", team__isnull=False)),
                name="assignmentrule_target",
            ),
        ]

    def __str__(self):
        return self.name


class SavedView(models.Model):
    """A user's named filter of the contact or company list."""

    class ListName(models.TextChoices):
        CONTACTS = "contacts", _("Contacts")
        COMPANIES = "companies", _("Companies")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_views")
    list_name = models.CharField(max_length=10, choices=ListName.choices)
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000, help_text=_("The list's query string."))

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "list_name", "name"], name="savedview_uniq")]

    def __str__(self):
        return self.name


class DuplicateStatus(models.TextChoices):
    OPEN = "open", _("To review")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not a duplicate")


class DuplicateCandidate(models.Model):
    """Two contacts that look like one person, waiting in the review queue."""

    first = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20)  # "email", "phone", "name"
    score = models.FloatField(default=1.0)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="duplicate_pair_uniq"),
            models.CheckConstraint(condition=Q(first__lt=models.F("second")), name="duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_queue_idx")]

    def __str__(self):
        return f"{self.first_id} ~ {self.second_id} ({self.reason})"


class MergeRecord(models.Model):
    """Audit of one merge: which contacts were folded into which, by whom, with their data."""

    kept = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="+")
    kept_id_value = models.BigIntegerField()
    merged_ids = models.JSONField(default=list)
    snapshot = models.JSONField(default=dict, help_text=_("The merged records as they were."))
    merged_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at"]

    def __str__(self):
        return f"{self.merged_ids} → {self.kept_id_value}"


class ImportJob(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        VCARD = "vcard", "vCard"

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("Skip the row")
        UPDATE = "update", _("Update the existing contact")
        CREATE = "create", _("Create a new contact anyway")

    class Status(models.TextChoices):
        MAPPING = "mapping", _("Waiting for the column mapping")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        REVERTED = "reverted", _("Reverted")

    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="import_jobs")
    file = models.FileField(upload_to="imports/%Y/%m/")
    file_name = models.CharField(max_length=255)
    file_sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=8, choices=Format.choices)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    mapping = models.JSONField(default=dict, blank=True, help_text=_("column header -> contact field"))
    on_duplicate = models.CharField(max_length=8, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    # Rows handled so far; committed with each batch, so a killed job resumes after it.
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.file_name

    def get_absolute_url(self):
        return reverse("contacts:import_detail", args=[self.pk])


class ImportRowResult(models.Model):
    """What an import did with one line: for the error report and for reverting."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        SKIPPED = "skipped", _("Skipped")
        REJECTED = "rejected", _("Rejected")

    # db_index=False: importrow_uniq (job, line) serves the lookups by job
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows", db_index=False)
    line = models.PositiveIntegerField()
    action = models.CharField(max_length=8, choices=Action.choices)
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.CharField(max_length=500, blank=True)
    previous = models.JSONField(null=True, blank=True, help_text=_("Fields as they were before an update."))

    class Meta:
        ordering = ["job", "line"]
        constraints = [models.UniqueConstraint(fields=["job", "line"], name="importrow_uniq")]

    def __str__(self):
        return f"{self.job_id}:{self.line} {self.action}"
