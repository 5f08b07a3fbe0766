"""Template tags of the sales app: the orders panel of the contact and company pages, percentages."""

from django import template

from contacts.models import Company, Contact
from sales import selectors

register = template.Library()


@register.inclusion_tag("sales/partials/orders_panel_body.html", takes_context=True)
def orders_panel(context, subject):
    """`subject` is the page's contact or company (which the user may see, or the page would be a 404)."""
    request = context["request"]
    if isinstance(subject, Contact):
        data = selectors.contact_orders(contact=subject)
        new_order_contact = subject.pk
    elif isinstance(subject, Company):
        data = selectors.company_orders(user=request.user, company=subject)
        new_order_contact = None
    else:
        raise template.TemplateSyntaxError("orders_panel needs a contact or a company")
    return {
        **data,
        "subject": subject,
        "is_company": isinstance(subject, Company),
        "new_order_contact": new_order_contact,
    }


@register.filter
def percent(value, digits: int = 1) -> str:
    """A share (0.0-1.0) as a percentage: 0.0345 -> "3.5 %"; empty when there is none."""
    if value is None or value == "":
        return ""
    return f"{float(value) * 100:.{int(digits)}f} %"
