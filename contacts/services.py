"""Writes to the client database. Views, imports, commands and tasks all call these."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from contacts.models import Company, Contact
from contacts.selectors import normalise_phone


@transaction.atomic
def company_create(*, owner, name: str, **fields) -> Company:
    company = Company(owner=owner, name=name.strip(), **fields)
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def contact_create(
    *,
    owner,
    given_name: str = "",
    family_name: str = "",
    display_name: str = "",
    email: str = "",
    phone: str = "",
    **fields,
) -> Contact:
    """Create a contact: the email lower-cased, the phone in E.164, a display name always set."""
    display_name = display_name.strip() or " ".join(part for part in (given_name.strip(), family_name.strip()) if part)
    if phone:
        normalised = normalise_phone(phone)
        if normalised is None:
            raise ValidationError({"phone": _("“%(phone)s” is not a valid phone number.") % {"phone": phone}})
        phone = normalised
    contact = Contact(
        owner=owner,
        given_name=given_name.strip(),
        family_name=family_name.strip(),
        display_name=display_name,
        email=email.strip().lower(),
        phone=phone,
        **fields,
    )
    contact.full_clean()
    contact.save()
    return contact
