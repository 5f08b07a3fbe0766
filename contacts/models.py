"""People and companies: the client database."""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.access import OwnedQuerySet


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


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("website domain"), max_length=253, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="IN")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="companies"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name", "id"]
        indexes = [
            # the company list, sorted by name
            models.Index(fields=["name", "id"], name="company_name_idx"),
            # the search box: part of a name in any script
            GinIndex(fields=["name"], name="company_name_trgm", opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:company_detail", args=[self.pk])


class Contact(models.Model):
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    display_name = models.CharField(_("display name"), max_length=300)
    email = models.EmailField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("In E.164 form, e.g. +919876543210."))
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    job_title = models.CharField(_("job title"), max_length=150, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="IN")
    customer_type = models.CharField(
        _("customer type"), max_length=3, choices=CustomerType.choices, default=CustomerType.B2C
    )
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, default=Phase.SELECTION)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="contacts"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["display_name", "id"]
        indexes = [
            # the contact list of one owner, sorted by name
            models.Index(fields=["owner", "display_name", "id"], name="contact_owner_name_idx"),
            # dashboard and reports: contacts per phase
            models.Index(fields=["phase", "owner"], name="contact_phase_owner_idx"),
            # the search box: part of a name in any script, or of an email
            GinIndex(fields=["display_name"], name="contact_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["email"], name="contact_email_trgm", opclasses=["gin_trgm_ops"]),
            # the search box: a phone number, matched on its digits
            models.Index(fields=["phone"], name="contact_phone_idx"),
        ]

    def __str__(self):
        return self.display_name

    def get_absolute_url(self):
        return reverse("contacts:contact_detail", args=[self.pk])
