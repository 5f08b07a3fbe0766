"""{% contact_quality contact as quality %}: completeness, what is missing and staleness of a contact."""

from django import template

from contacts.quality import contact_is_stale
from contacts.quality import contact_quality as quality_of

register = template.Library()


@register.simple_tag
def contact_quality(contact) -> dict:
    score, missing = quality_of(contact)
    return {
        "score": score,
        "missing": missing,
        "stale": contact_is_stale(contact),
        # the width class of the progress bar (static/crm/quality.css), in steps of ten
        "step": score // 10 * 10,
    }
