"""{{ field|as_field }}, {{ form|as_form }} and {{ form|as_form_errors }} write crispy-forms' bootstrap5
markup (compared tag by tag, attribute by attribute; only the whitespace between tags differs)."""

from html.parser import HTMLParser

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_errors, as_crispy_field, as_crispy_form
from django import forms
from django.test import RequestFactory

from contacts.filters import ContactFilter
from contacts.forms_lists import ListOptionsForm
from contacts.forms_records import ConsentForm
from contacts.forms_work import ActivityLogForm, TaskForm, TimelineFilterForm
from contacts.selectors import CONTACT_SORTS
from crm.templatetags.fields import as_field, as_form, as_form_errors
from crm.tests.test_renderers import BOUND, EveryWidgetForm


class _Tokens(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens = []

    def handle_starttag(self, tag, attrs):
        self.tokens.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.tokens.append(("end", tag))

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.tokens.append(("text", text))


def tokens(html: str) -> list:
    parser = _Tokens()
    parser.feed(str(html))
    return parser.tokens


class WithErrors(forms.Form):
    name = forms.CharField(help_text="Say <b>who</b>")

    def clean(self):
        raise forms.ValidationError("Nothing <fits>.")


def forms_to_compare(org):
    request = RequestFactory().get("/contacts/")
    request.user = org.manager_a
    yield EveryWidgetForm
    yield lambda data: ContactFilter(data, request=request).form
    yield lambda data: ListOptionsForm(data, sorts=CONTACT_SORTS, default_sort="name")
    yield ActivityLogForm
    yield lambda data: TaskForm(data, user=org.rep_a1)
    yield TimelineFilterForm
    yield ConsentForm
    yield WithErrors


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, BOUND, {"number": "x", "due_at": "soon", "per_page": "7"}])
def test_it_writes_what_crispy_writes(org, data):
    for make in forms_to_compare(org):
        for name in make(data).fields:
            ours, theirs = make(data)[name], make(data)[name]
            assert tokens(as_field(ours)) == tokens(as_crispy_field(theirs)), (make, name)
        assert tokens(as_form(make(data))) == tokens(as_crispy_form(make(data))), make
        assert tokens(as_form_errors(make(data))) == tokens(as_crispy_errors(make(data))), make


def test_it_escapes_labels_values_and_errors():
    class Risky(forms.Form):
        name = forms.CharField(label="<i>Name</i>")

        def clean_name(self):
            raise forms.ValidationError("<b>%(value)s</b> is taken", params={"value": self.cleaned_data["name"]})

    html = as_field(Risky({"name": "<script>"})["name"])
    assert "<script>" not in html and "<i>" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;i&gt;Name&lt;/i&gt;" in html
