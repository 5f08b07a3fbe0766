"""Lead assignment rules: who owns a new lead created (or imported) without an owner (contacts.services.lead_owners)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.admin import AssignmentRuleForm
from contacts.importers.job import import_prepare, import_run, import_start, job_fields
from contacts.models import AssignmentRule, Contact, Industry, Source
from contacts.services import contact_create, contacts_create, lead_owner
from contacts.tests.factories import CompanyFactory
from crm.tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _lead(by, **fields):
    return contact_create(by=by, given_name="New", family_name="Lead", **fields)


@pytest.fixture
def creator():
    return UserFactory(username="creator")


def test_without_a_rule_the_creator_owns_the_lead(creator):
    assert _lead(creator).owner == creator


def test_an_owner_given_wins_over_the_rules(creator):
    ruled, chosen = UserFactory(), UserFactory()
    AssignmentRule.objects.create(name="All", strategy="user", user=ruled)
    assert _lead(creator, owner=chosen).owner == chosen


def test_round_robin_gives_the_team_members_in_turn(creator):
    members = [UserFactory(username=f"member{n}") for n in range(3)]
    team = TeamFactory(members=members)
    AssignmentRule.objects.create(name="Everyone to the team", strategy="round_robin", team=team)
    owners = [_lead(creator).owner for _ in range(7)]
    assert owners == [*members, *members, members[0]]
    assert team.manager not in owners


def test_round_robin_skips_inactive_members(creator):
    first, gone, last = UserFactory(username="a_first"), UserFactory(username="b_gone"), UserFactory(username="c_last")
    gone.is_active = False
    gone.save()
    team = TeamFactory(members=[first, gone, last])
    AssignmentRule.objects.create(name="Team", strategy="round_robin", team=team)
    owners = {_lead(creator).owner for _ in range(6)}
    assert owners == {first, last}


def test_a_round_robin_rule_with_no_active_member_is_passed_over(creator):
    gone = UserFactory(is_active=False)
    fallback = UserFactory()
    AssignmentRule.objects.create(
        name="Empty team", position=1, strategy="round_robin", team=TeamFactory(members=[gone])
    )
    AssignmentRule.objects.create(name="Fallback", position=2, strategy="user", user=fallback)
    assert _lead(creator).owner == fallback


def test_a_rule_for_an_inactive_user_is_passed_over(creator):
    AssignmentRule.objects.create(name="Left", strategy="user", user=UserFactory(is_active=False))
    assert _lead(creator).owner == creator


@pytest.mark.parametrize(
    ("match", "value", "fields"),
    [
        ("state", "KARNATAKA", {"state": "Karnataka"}),
        ("state", "karnataka", {"state": "KARNATAKA"}),
        ("city", "bengaluru", {"city": "Bengaluru"}),
        ("city", "Kolkata", {"city": "  kolkata "}),
        ("source", "REFERRAL", {"source": Source.REFERRAL}),
        ("source", "Web_Form", {"source": Source.WEB_FORM}),
    ],
)
def test_rules_match_state_city_and_source_without_regard_to_case(creator, match, value, fields):
    owner = UserFactory()
    AssignmentRule.objects.create(name="Rule", match=match, value=value, strategy="user", user=owner)
    assert _lead(creator, **fields).owner == owner


@pytest.mark.parametrize(
    ("match", "value", "fields"),
    [
        ("state", "Karnataka", {"state": "Kerala"}),
        ("state", "Karnataka", {}),
        ("city", "Bengaluru", {"city": "Mysuru"}),
        ("source", "referral", {"source": Source.EVENT}),
    ],
)
def test_a_rule_that_does_not_match_leaves_the_lead_to_the_creator(creator, match, value, fields):
    AssignmentRule.objects.create(name="Rule", match=match, value=value, strategy="user", user=UserFactory())
    assert _lead(creator, **fields).owner == creator


def test_rules_match_the_industry_of_the_leads_company(creator):
    owner = UserFactory()
    textiles = Industry.objects.create(name="Textiles")
    AssignmentRule.objects.create(name="Textiles", match="industry", value="TEXTILES", strategy="user", user=owner)
    weaver = CompanyFactory(owner=creator, industry=textiles)
    bank = CompanyFactory(owner=creator, industry=Industry.objects.create(name="Banking"))
    assert _lead(creator, company=weaver).owner == owner
    assert _lead(creator, company=bank).owner == creator
    assert _lead(creator).owner == creator  # no company, no industry


def test_the_first_matching_rule_by_position_wins(creator):
    karnataka, anyone, bengaluru = UserFactory(), UserFactory(), UserFactory()
    # created out of order: the position decides, not the id
    AssignmentRule.objects.create(name="Any", position=3, match="any", strategy="user", user=anyone)
    AssignmentRule.objects.create(
        name="City", position=1, match="city", value="Bengaluru", strategy="user", user=bengaluru
    )
    AssignmentRule.objects.create(
        name="State", position=2, match="state", value="Karnataka", strategy="user", user=karnataka
    )
    assert _lead(creator, city="Bengaluru", state="Karnataka").owner == bengaluru
    assert _lead(creator, city="Mysuru", state="Karnataka").owner == karnataka
    assert _lead(creator, city="Chennai", state="Tamil Nadu").owner == anyone


def test_inactive_rules_are_ignored(creator):
    AssignmentRule.objects.create(name="Off", strategy="user", user=UserFactory(), active=False)
    assert _lead(creator).owner == creator


def test_round_robin_turns_are_kept_per_rule(creator):
    north = [UserFactory(username=f"north{n}") for n in range(2)]
    south = [UserFactory(username=f"south{n}") for n in range(3)]
    AssignmentRule.objects.create(
        name="North", position=1, match="state", value="Punjab", strategy="round_robin", team=TeamFactory(members=north)
    )
    AssignmentRule.objects.create(
        name="South", position=2, match="state", value="Kerala", strategy="round_robin", team=TeamFactory(members=south)
    )
    owners = [_lead(creator, state=state).owner for state in ["Punjab", "Kerala", "Punjab", "Kerala", "Kerala"]]
    assert owners == [north[0], south[0], north[1], south[1], south[2]]


def test_lead_owner_answers_none_when_no_rule_matches():
    assert lead_owner(fields={"city": "Pune"}) is None


# Source rules compare codes: the admin may type the label they see or the stored code -----------


@pytest.mark.parametrize("typed", ["Walk-in", "walk-in", "WALK IN", "walk_in"])
def test_the_admin_form_keeps_the_code_of_the_source_typed(org, typed):
    owner = UserFactory()
    form = AssignmentRuleForm(
        data={
            "name": "Walk-ins",
            "position": 0,
            "match": "source",
            "value": typed,
            "strategy": "user",
            "user": owner.pk,
            "active": "on",
        }
    )
    assert form.is_valid(), form.errors
    rule = form.save()
    assert rule.value == Source.WALK_IN
    assert _lead(org.rep_a1, source=Source.WALK_IN).owner == owner
    assert _lead(org.rep_a1, source=Source.REFERRAL).owner == org.rep_a1


def test_the_admin_form_refuses_a_source_that_does_not_exist():
    form = AssignmentRuleForm(
        data={"name": "Typo", "position": 0, "match": "source", "value": "Walkin", "strategy": "user", "user": 1}
    )
    assert not form.is_valid()
    assert "is not a source" in form.errors["value"][0] and "Walk-in" in form.errors["value"][0]


def test_a_city_rule_keeps_the_value_as_typed():
    owner = UserFactory()
    form = AssignmentRuleForm(
        data={"name": "Pune", "position": 0, "match": "city", "value": "Pune", "strategy": "user", "user": owner.pk}
    )
    assert form.is_valid(), form.errors
    assert form.save().value == "Pune"


def test_a_source_rule_saved_with_the_label_matches_the_stored_code(creator):
    """Rules saved before the form kept codes (or made outside it) still work."""
    owner = UserFactory()
    AssignmentRule.objects.create(name="Walk-ins", match="source", value="Walk-in", strategy="user", user=owner)
    assert _lead(creator, source=Source.WALK_IN).owner == owner
    assert _lead(creator, source=Source.EVENT).owner == creator


def test_a_source_rule_added_in_the_admin_assigns_imported_and_typed_leads(client, org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    walk_ins = UserFactory(username="walk_ins")
    client.force_login(org.admin)
    response = client.post(
        reverse("admin:contacts_assignmentrule_add"),
        {
            "name": "Walk-ins",
            "position": 0,
            "match": "source",
            "value": "Walk-in",
            "strategy": "user",
            "user": walk_ins.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert AssignmentRule.objects.get().value == Source.WALK_IN

    job = import_prepare(
        owner=org.rep_a1,
        upload=SimpleUploadedFile("leads.csv", b"Name,Lead Source\nAsha Rao,Walk-in\nRavi Kumar,Web\n"),
    )
    import_start(job=job, fields=job_fields(job), by=org.rep_a1)
    import_run(job_id=job.pk)

    owners = dict(Contact.objects.values_list("display_name", "owner"))
    assert owners == {"Asha Rao": walk_ins.pk, "Ravi Kumar": org.rep_a1.pk}
    assert _lead(org.rep_a1, source=Source.WALK_IN).owner == walk_ins


def test_one_batch_hands_out_round_robin_turns_as_leads_one_by_one(creator):
    members = [UserFactory(username=f"turn{n}") for n in range(3)]
    AssignmentRule.objects.create(name="Team", strategy="round_robin", team=TeamFactory(members=members))
    _lead(creator)  # the first turn went before the batch

    batch = contacts_create(rows=[{"given_name": f"Lead {n}"} for n in range(4)], by=creator)

    assert [contact.owner for contact in batch] == [members[1], members[2], members[0], members[1]]
    assert _lead(creator).owner == members[2]
