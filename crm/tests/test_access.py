"""The access rule: who sees which records."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from crm.access import visible_users

pytestmark = pytest.mark.django_db


def visible_owners(user):
    return set(Contact.objects.visible_to(user).values_list("owner__username", flat=True))


@pytest.fixture
def one_contact_each(org):
    for user in [org.admin, org.manager_a, org.manager_b, org.rep_a1, org.rep_a2, org.rep_b1, org.rep_b2]:
        ContactFactory(owner=user)
    return org


def test_rep_of_a_private_team_sees_only_their_own(one_contact_each):
    assert visible_owners(one_contact_each.rep_a1) == {"rep_a1"}


def test_rep_of_a_sharing_team_sees_the_team_members_records(one_contact_each):
    assert visible_owners(one_contact_each.rep_b1) == {"rep_b1", "rep_b2"}


def test_manager_sees_their_teams_and_their_own(one_contact_each):
    assert visible_owners(one_contact_each.manager_a) == {"manager_a", "rep_a1", "rep_a2"}


def test_admin_sees_everything(one_contact_each):
    assert len(visible_owners(one_contact_each.admin)) == 7


def test_manager_of_two_teams_sees_both(one_contact_each):
    one_contact_each.team_b.manager = one_contact_each.manager_a
    one_contact_each.team_b.save()
    assert visible_owners(one_contact_each.manager_a) == {"manager_a", "rep_a1", "rep_a2", "rep_b1", "rep_b2"}


def test_a_deactivated_user_sees_nothing(one_contact_each):
    one_contact_each.rep_a1.is_active = False
    assert visible_owners(one_contact_each.rep_a1) == set()


def test_owner_choices_follow_the_rule(org):
    assert set(visible_users(org.rep_b1).values_list("username", flat=True)) == {"rep_b1", "rep_b2"}


PUBLIC_URL_NAMES = {
    "login",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "healthz",
    "set_language",
    # a customer answers the satisfaction question from the link in an email, without an account
    "support:satisfaction",
}


def _named_patterns(resolver, namespace=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named_patterns(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def test_every_page_but_the_public_ones_requires_login(client):
    from django.urls import reverse

    checked = 0
    for name, pattern in _named_patterns(get_resolver()):
        if name in PUBLIC_URL_NAMES or name == "logout":
            continue
        kwargs = {key: 1 for key in pattern.pattern.regex.groupindex}
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name
        checked += 1
    assert checked >= 8


def test_admin_requires_staff(client, org):
    client.force_login(org.rep_a1)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(org.admin)
    assert client.get("/admin/").status_code == 200
