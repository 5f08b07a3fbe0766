"""Template tags of the pipeline: the cards of the kanban board, and the open deals panel of the
contact and company pages."""

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from contacts.models import Company, Contact
from contacts.templatetags.list_rows import url_maker
from crm.templatetags.money import money
from sales import pipeline

register = template.Library()

_CARD = """<li class="kanban-card card mb-2" data-deal="{pk}" data-move-url="{move}" data-lose-url="{lose}"{drag} \
data-testid="deal-card">
  <div class="card-body p-2">
    <a class="fw-semibold text-break link-underline link-underline-opacity-25" href="{detail}">{name}</a>
    <div class="small text-body-secondary text-break">{contact}</div>
    <div class="d-flex justify-content-between small gap-2"><span>{amount}</span>{close}</div>
    <div class="small text-body-secondary">{owner}{fixed}</div>
  </div>
</li>"""


class _Cards:
    """What every card of a page shares, worked out once: the links' patterns and the translated texts.
    A board shows up to 600 cards; written in a template each cost about 0.35 ms (three reverse()s,
    the money and date filters, two translations), more than the board's queries."""

    def __init__(self):
        self.detail = url_maker("sales:deal_detail")
        self.move = url_maker("sales:deal_move")
        self.lose = url_maker("sales:deal_lose")
        self.expected_close = gettext("Expected close")
        self.fixed = format_html(' <span class="visually-hidden">({})</span>', gettext("you cannot move this deal"))

    def card(self, deal) -> SafeString:
        close = ""
        if deal.expected_close_date:
            close = format_html(
                '<span title="{}">{}</span>',
                self.expected_close,
                date_format(deal.expected_close_date, "SHORT_DATE_FORMAT"),
            )
        return format_html(
            _CARD,
            pk=deal.pk,
            move=self.move(deal.pk),
            lose=self.lose(deal.pk),
            drag=mark_safe(' draggable="true"') if deal.may_move else "",
            detail=self.detail(deal.pk),
            name=deal.name,
            contact=deal.contact.display_name,
            amount=money(deal.amount, deal.currency),
            close=close,
            owner=deal.owner,
            fixed="" if deal.may_move else self.fixed,
        )


@register.simple_tag
def kanban_cards(deals) -> SafeString:
    """The cards of a column (deals of board_cards/card_of, with `may_move`), every value escaped."""
    cards = _Cards()
    return mark_safe("".join(cards.card(deal) for deal in deals))  # noqa: S308 - each card built with format_html


@register.simple_tag
def kanban_card(deal) -> SafeString:
    """One card, as the board shows it (the answer to a move)."""
    return _Cards().card(deal)


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
