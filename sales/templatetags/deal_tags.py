"""Template tags of the pipeline: the open deals panel of the contact and company pages."""

from django import template

from contacts.models import Company, Contact
from sales import pipeline

register = template.Library()


@register.inclusion_tag("sales/partials/open_deals_panel_body.html", takes_context=True)
def open_deals_panel(context, subject):
    """`subject` is the page's contact or company; the deals listed are those the user may see."""
    user = context["request"].user
    if isinstance(subject, Contact):
        data = pipeline.open_deals_of(user=user, contact=subject)
    elif isinstance(subject, Company):
        data = pipeline.open_deals_of(user=user, company=subject)
    else:
        raise template.TemplateSyntaxError("open_deals_panel needs a contact or a company")
    return {**data, "subject": subject, "is_company": isinstance(subject, Company)}
