"""Template tags of the loyalty programme: the loyalty panel of a contact's page and the reward
code box of an order's page."""

from django import template

from sales import loyalty
from sales.forms_loyalty import RedeemForm
from sales.models import OrderStatus, RewardKind

register = template.Library()


@register.inclusion_tag("sales/partials/loyalty_panel_body.html", takes_context=True)
def loyalty_panel(context, contact):
    """`contact` is the page's contact (whom the user may see, or the page would be a 404)."""
    return {
        **loyalty.contact_loyalty(contact=contact),
        "contact": contact,
        "can_issue": loyalty.can_issue_codes(context["request"].user),
        "percent": RewardKind.PERCENT,
    }


@register.inclusion_tag("sales/partials/loyalty_redeem_body.html", takes_context=True)
def order_reward_box(context, order):
    """`order` is the page's order (which the user may see)."""
    return {
        "order": order,
        "reward": loyalty.order_reward(order=order),
        "can_redeem": order.status == OrderStatus.PLACED,
        "form": RedeemForm(auto_id="id_reward_%s"),
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def reward_text(reward) -> str:
    """The reward of a code in words: 10 % off, ₹500.00 off."""
    return loyalty.reward_label(kind=reward.kind, value=reward.value, currency=reward.currency)
