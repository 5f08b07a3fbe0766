"""Pages of the loyalty programme: the tiers (rules and how many hold each), issuing reward codes to a
contact or to a whole tier, redeeming a code on an order, and the admin's "recompute now".

Everyone signed in sees the tiers (counting only the contacts they may see); managers and admins
issue codes (others get a 404, as for any page they may not use), to contacts they may see only;
whoever may see an order may redeem one of its contact's codes on it."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contacts.models import Contact
from crm.templatetags.money import money
from sales import loyalty
from sales.forms_loyalty import CodeIssueForm, RedeemForm, TierIssueForm
from sales.models import Order


def _require_issuer(request) -> None:
    if not loyalty.can_issue_codes(request.user):
        raise Http404


def _add_service_error(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


@require_GET
def tier_list(request):
    context = {
        "rows": loyalty.tier_overview(user=request.user),
        "can_issue": loyalty.can_issue_codes(request.user),
        "can_recompute": request.user.is_crm_admin,
        "default_currency": settings.DEFAULT_CURRENCY,
    }
    return render(request, "sales/loyalty_tiers.html", context)


@require_POST
def tiers_recompute(request):
    """Admins: recompute the tiers now (after changing the rules) rather than wait for the night."""
    if not request.user.is_crm_admin:
        raise Http404
    from sales.tasks import tiers_recompute_task

    transaction.on_commit(tiers_recompute_task.delay)
    messages.info(request, _("The tiers are being recomputed; reload this page in a minute."))
    return redirect("sales:loyalty_tiers")


@require_http_methods(["GET", "POST"])
def code_issue(request, contact_pk: int):
    _require_issuer(request)
    contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=contact_pk)
    form = CodeIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reward = loyalty.code_issue(contact=contact, by=request.user, **form.terms())
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            messages.success(
                request,
                _("Code %(code)s issued to %(name)s.") % {"code": reward.code, "name": contact.display_name},
            )
            return redirect(contact.get_absolute_url() + "#loyalty")
    return render(request, "sales/loyalty_code_issue.html", {"form": form, "contact": contact})


@require_http_methods(["GET", "POST"])
def codes_issue_to_tier(request):
    _require_issuer(request)
    form = TierIssueForm(request.POST or None, initial={"tier": request.GET.get("tier")})
    if request.method == "POST" and form.is_valid():
        tier = form.cleaned_data["tier"]
        try:
            done = loyalty.codes_issue_to_tier_request(
                tier=tier, by=request.user, audience=Contact.objects.visible_to(request.user), **form.terms()
            )
        except ValidationError as error:
            _add_service_error(form, error)
        else:
            if done.queued:
                text = ngettext(
                    "%(count)d code is being issued to the holders of %(tier)s; they appear on their pages shortly.",
                    "%(count)d codes are being issued to the holders of %(tier)s; they appear on their pages shortly.",
                    done.holders,
                )
            else:
                text = ngettext(
                    "%(count)d code issued to the holders of %(tier)s.",
                    "%(count)d codes issued to the holders of %(tier)s.",
                    done.holders,
                )
            messages.success(request, text % {"count": done.holders, "tier": tier.name})
            return redirect("sales:loyalty_tiers")
    return render(request, "sales/loyalty_tier_issue.html", {"form": form})


@require_POST
def code_redeem(request, pk: int):
    """Redeem a code on an order the user may see; the answer says plainly why a code is refused."""
    order = get_object_or_404(Order.objects.visible_to(request.user), pk=pk)
    form = RedeemForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Type the reward code to redeem."))
        return redirect(order)
    try:
        reward = loyalty.code_redeem(code=form.cleaned_data["code"], order=order, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Code %(code)s redeemed on %(number)s: %(discount)s off.")
            % {
                "code": reward.code,
                "number": order.number,
                "discount": money(reward.discount_amount, order.currency),
            },
        )
    return redirect(reverse("sales:order_detail", args=[order.pk]) + "#reward-code")


urlpatterns = [
    path("loyalty/", tier_list, name="loyalty_tiers"),
    path("loyalty/recompute/", tiers_recompute, name="loyalty_recompute"),
    path("loyalty/codes/issue/", codes_issue_to_tier, name="loyalty_tier_issue"),
    path("loyalty/contacts/<int:contact_pk>/codes/issue/", code_issue, name="loyalty_code_issue"),
    path("orders/<int:pk>/reward-code/", code_redeem, name="order_code_redeem"),
]
