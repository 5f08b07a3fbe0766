"""What the base template needs on every page: the navigation entries."""

from functools import cache

from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _

NAVIGATION = [
    ("dashboard", _("Dashboard"), "dashboard"),
    ("my_day", _("My day"), "contacts:my_day"),
    ("contacts", _("Contacts"), "contacts:contact_list"),
    ("companies", _("Companies"), "contacts:company_list"),
    ("pipeline", _("Lifecycle"), "contacts:pipeline"),
    ("deals", _("Deals"), "sales:deal_board"),
    ("orders", _("Orders"), "sales:order_list"),
    ("products", _("Products"), "sales:product_list"),
    ("support", _("Support"), "support:ticket_list"),
    ("campaigns", _("Campaigns"), "campaigns:index"),
    ("reports", _("Reports"), "analytics:reports"),
]
# Pages whose section is not the one of their namespace.
SECTION_OF_PAGE = {"contacts:pipeline": "pipeline", "contacts:my_day": "my_day"}
SECTION_OF_NAMESPACE = {"contacts": "contacts", "campaigns": "campaigns", "analytics": "reports", "support": "support"}
# Apps with several sections: the first part of the view name picks it ("sales:product_detail" -> products).
SECTION_OF_PAGE_PREFIX = {"sales:product": "products", "sales:order": "orders", "sales:deal": "deals"}


def current_section(match) -> str:
    if match is None:
        return ""
    if match.view_name in SECTION_OF_PAGE:
        return SECTION_OF_PAGE[match.view_name]
    if match.namespace == "contacts" and match.url_name.startswith("company"):
        return "companies"
    for prefix, section in SECTION_OF_PAGE_PREFIX.items():
        if match.view_name.startswith(prefix):
            return section
    return SECTION_OF_NAMESPACE.get(match.namespace, "dashboard")


# Each language named in itself, as a reader of it looks for it in a switcher
# (Django's own table names Kannada in English).
LANGUAGE_SELF_NAMES = {"en": "English", "hi": "हिन्दी", "bn": "বাংলা", "kn": "ಕನ್ನಡ"}


def navigation(request):
    from django.conf import settings

    languages = [{"code": code, "name": LANGUAGE_SELF_NAMES.get(code, code)} for code, _name in settings.LANGUAGES]
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"language_choices": languages}
    section = current_section(getattr(request, "resolver_match", None))
    return {
        "language_choices": languages,
        # A callable: only pages that show the navbar badge pay for the count (htmx partials do not).
        "unread_notification_count": _unread_count_of(user),
        "nav_items": [
            {"key": key, "label": label, "url": url, "active": key == section}
            for (key, label, _name), url in zip(NAVIGATION, _navigation_urls(get_script_prefix()), strict=True)
        ],
    }


@cache
def _navigation_urls(script_prefix: str) -> tuple[str, ...]:
    """The entries' URLs, reversed once per prefix the site is served under (not on every page)."""
    return tuple(reverse(name) for _key, _label, name in NAVIGATION)


def _unread_count_of(user):
    from contacts.selectors_work import unread_notification_count

    return cache(lambda: unread_notification_count(user=user))
