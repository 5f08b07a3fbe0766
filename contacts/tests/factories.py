import factory

from contacts.models import Company, Contact
from crm.tests.factories import UserFactory


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    owner = factory.SubFactory(UserFactory)
    city = "Bengaluru"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    display_name = factory.LazyAttribute(lambda c: f"{c.given_name} {c.family_name}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    owner = factory.SubFactory(UserFactory)
