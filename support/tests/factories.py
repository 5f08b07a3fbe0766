import factory

from contacts.tests.factories import ContactFactory
from support.models import Channel, Priority, Ticket
from support.services import ticket_create


class TicketFactory(factory.django.DjangoModelFactory):
    """Tickets made through `ticket_create`, so due times and history are the real ones."""

    class Meta:
        model = Ticket

    contact = factory.SubFactory(ContactFactory)
    subject = factory.Sequence(lambda n: f"Problem {n}")
    description = "It does not work."
    channel = Channel.PHONE
    priority = Priority.NORMAL

    @classmethod
    def _create(cls, model_class, *args, by=None, **kwargs):
        return ticket_create(by=by or kwargs["contact"].owner, **kwargs)
