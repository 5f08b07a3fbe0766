"""Handing a leaving rep's records to someone else: the managers' page and the admin's deactivation."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from contacts.models import Company, Contact, FieldChange, Notification, Task, TaskStatus
from contacts.services import task_complete, task_create
from contacts.tests.factories import CompanyFactory, ContactFactory
from crm.testing import assert_access

pytestmark = pytest.mark.django_db


def _records_of(user, *, contacts=3, companies=2, open_tasks=2):
    ContactFactory.create_batch(contacts, owner=user)
    CompanyFactory.create_batch(companies, owner=user)
    due = timezone.now() + datetime.timedelta(days=1)
    for n in range(open_tasks):
        task_create(by=user, title=f"Open {n}", due_at=due)
    task_complete(task=task_create(by=user, title="Done already", due_at=due), by=user)


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_reassign_page_is_for_managers_and_admins_only(org):
    assert_access(reverse("contacts:reassign"), allowed=[org.manager_a, org.manager_b, org.admin], denied=[org.rep_a1])
    assert_access(reverse("contacts:reassign"), denied=[org.rep_b1], method="post", data={})


def test_a_manager_hands_a_reps_records_to_another_with_a_summary(client, org):
    org.rep_a2.first_name, org.rep_a2.last_name = "Priya", ""
    org.rep_a2.save()
    _records_of(org.rep_a1)
    client.force_login(org.manager_a)
    response = client.post(reverse("contacts:reassign"), {"from_user": org.rep_a1.pk, "to_user": org.rep_a2.pk})
    assert response.status_code == 302
    assert _messages(response) == ["3 contacts, 2 companies, 2 open tasks moved to Priya"]
    assert Contact.objects.filter(owner=org.rep_a2).count() == 3 and not Contact.objects.filter(owner=org.rep_a1)
    assert Company.objects.filter(owner=org.rep_a2).count() == 2
    assert Task.objects.filter(assignee=org.rep_a2, status=TaskStatus.OPEN).count() == 2
    assert Task.objects.get(status=TaskStatus.DONE).assignee == org.rep_a1  # history stays as it was
    assert FieldChange.objects.filter(field="owner", via="reassign", changed_by=org.manager_a).count() == 5
    assert "moved to Priya" in Notification.objects.get(user=org.rep_a2).text


def test_the_summary_speaks_in_the_singular_too(client, org):
    org.rep_a2.first_name, org.rep_a2.last_name = "Priya", ""
    org.rep_a2.save()
    _records_of(org.rep_a1, contacts=1, companies=1, open_tasks=1)
    client.force_login(org.admin)
    response = client.post(reverse("contacts:reassign"), {"from_user": org.rep_a1.pk, "to_user": org.rep_a2.pk})
    assert _messages(response) == ["1 contact, 1 company, 1 open task moved to Priya"]


def test_a_manager_chooses_only_among_the_users_they_see(client, org):
    _records_of(org.rep_b1)
    _records_of(org.rep_a1)
    client.force_login(org.manager_a)
    page = client.get(reverse("contacts:reassign")).content.decode()
    assert str(org.rep_a1) in page and str(org.rep_b1) not in page
    for data in (
        {"from_user": org.rep_b1.pk, "to_user": org.rep_a2.pk},  # someone else's rep leaves
        {"from_user": org.rep_a1.pk, "to_user": org.rep_b2.pk},  # handed to a stranger
    ):
        response = client.post(reverse("contacts:reassign"), data)
        assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert Contact.objects.filter(owner=org.rep_b1).count() == 3
    assert Contact.objects.filter(owner=org.rep_a1).count() == 3


def test_records_cannot_be_handed_to_the_same_user_or_to_nobody(client, org):
    _records_of(org.rep_a1)
    client.force_login(org.manager_a)
    for data in ({"from_user": org.rep_a1.pk, "to_user": org.rep_a1.pk}, {"from_user": org.rep_a1.pk}, {}):
        response = client.post(reverse("contacts:reassign"), data)
        assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert Contact.objects.filter(owner=org.rep_a1).count() == 3
    assert not FieldChange.objects.filter(via="reassign").exists()


def test_the_records_of_someone_already_deactivated_can_be_handed_over(client, org):
    _records_of(org.rep_a1)
    org.rep_a1.is_active = False
    org.rep_a1.save()
    client.force_login(org.manager_a)
    response = client.post(reverse("contacts:reassign"), {"from_user": org.rep_a1.pk, "to_user": org.rep_a2.pk})
    assert response.status_code == 302
    assert Contact.objects.filter(owner=org.rep_a2).count() == 3
    # but nobody hands records to a deactivated user
    response = client.post(reverse("contacts:reassign"), {"from_user": org.rep_a2.pk, "to_user": org.rep_a1.pk})
    assert response.status_code == 200
    assert Contact.objects.filter(owner=org.rep_a2).count() == 3


# Django admin ------------------------------------------------------------------------------


def _change_form_without_active(user) -> dict:
    """The admin's user change form as posted with "Active" unticked."""
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "time_zone": user.time_zone,
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": "10:00:00",
    }


def test_admin_action_asks_for_the_new_owner_then_deactivates_and_hands_over(client, org):
    _records_of(org.rep_a1)
    _records_of(org.rep_a2, contacts=1, companies=0, open_tasks=0)
    client.force_login(org.admin)
    changelist = reverse("admin:crm_user_changelist")
    selected = {"action": "deactivate_and_hand_over", "_selected_action": [org.rep_a1.pk, org.rep_a2.pk]}
    confirm = client.post(changelist, selected)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "3 contacts, 2 companies, 2 open tasks" in page and 'name="to_user"' in page
    assert Contact.objects.filter(owner=org.rep_a1).count() == 3  # nothing done yet

    response = client.post(changelist, {**selected, "apply": "1", "to_user": org.manager_a.pk})
    assert response.status_code == 302
    org.rep_a1.refresh_from_db()
    org.rep_a2.refresh_from_db()
    assert not org.rep_a1.is_active and not org.rep_a2.is_active
    assert Contact.objects.filter(owner=org.manager_a).count() == 4
    assert Task.objects.filter(assignee=org.manager_a, status=TaskStatus.OPEN).count() == 2
    assert any("moved to" in text for text in _messages(response))


def test_admin_action_cannot_hand_over_to_one_of_the_leavers_or_deactivate_oneself(client, org):
    _records_of(org.rep_a1)
    client.force_login(org.admin)
    changelist = reverse("admin:crm_user_changelist")
    selected = {"action": "deactivate_and_hand_over", "_selected_action": [org.rep_a1.pk], "apply": "1"}
    response = client.post(changelist, {**selected, "to_user": org.rep_a1.pk})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    response = client.post(changelist, {**selected, "_selected_action": [org.admin.pk], "to_user": org.rep_a2.pk})
    assert "cannot deactivate yourself" in " ".join(_messages(response))
    org.rep_a1.refresh_from_db()
    org.admin.refresh_from_db()
    assert org.rep_a1.is_active and org.admin.is_active
    assert Contact.objects.filter(owner=org.rep_a1).count() == 3


def test_unticking_active_on_the_change_form_warns_when_records_remain(client, org):
    _records_of(org.rep_a1)
    client.force_login(org.admin)
    url = reverse("admin:crm_user_change", args=[org.rep_a1.pk])
    data = _change_form_without_active(org.rep_a1)
    response = client.post(url, data)
    assert response.status_code == 302
    org.rep_a1.refresh_from_db()
    assert not org.rep_a1.is_active
    [warning] = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    hand_over = reverse("admin:crm_user_hand_over", args=[org.rep_a1.pk])
    assert "still owns records" in str(warning) and hand_over in str(warning)

    confirm = client.get(hand_over)
    assert confirm.status_code == 200 and "3 contacts, 2 companies, 2 open tasks" in confirm.content.decode()
    response = client.post(hand_over, {"apply": "1", "to_user": org.rep_a2.pk})
    assert response.status_code == 302
    assert Contact.objects.filter(owner=org.rep_a2).count() == 3


def test_no_warning_for_a_deactivated_user_without_records(client, org):
    client.force_login(org.admin)
    url = reverse("admin:crm_user_change", args=[org.rep_b2.pk])
    data = _change_form_without_active(org.rep_b2)
    response = client.post(url, data)
    assert response.status_code == 302
    assert not [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_hand_over_page_is_for_admins_only(client, org):
    url = reverse("admin:crm_user_hand_over", args=[org.rep_a1.pk])
    client.force_login(org.manager_a)
    assert client.get(url).status_code == 302  # to the admin login: not staff
