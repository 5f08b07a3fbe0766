"""The Python widget renderer writes exactly what Django's widget templates write."""

import datetime

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django_filters.widgets import DateRangeWidget, RangeWidget

from crm.renderers import FastDjangoTemplates


class OddOption(forms.Select):
    option_template_name = "django/forms/widgets/input.html"


class EveryWidgetForm(forms.Form):
    text = forms.CharField(help_text="Help", widget=forms.TextInput(attrs={"placeholder": 'say "hi" & <go>'}))
    email = forms.EmailField(required=False)
    number = forms.IntegerField(widget=forms.NumberInput(attrs={"step": 1, "autofocus": True, "hidden": False}))
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    when = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    at = forms.DateTimeField(required=False)
    agree = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    phase = forms.ChoiceField(choices=[("", "—"), ("a", gettext_lazy("Active")), ("b", mark_safe("<b>B</b>"))])
    grouped = forms.ChoiceField(choices=[("Group <1>", [("x", "X & Y"), ("y", "Y")]), ("z", "Z")], required=False)
    sizes = forms.TypedChoiceField(choices=[(10, 10), (25, 25)], coerce=int, required=False)
    many = forms.MultipleChoiceField(choices=[("p", "P"), ("q", "Q"), ("r", "R")], required=False)
    odd = forms.ChoiceField(choices=[("o", "O")], widget=OddOption, required=False)
    split = forms.SplitDateTimeField(required=False)
    dates = forms.CharField(widget=DateRangeWidget(attrs={"type": "date"}), required=False)
    numbers = forms.CharField(widget=RangeWidget(attrs={"type": "number", "step": "any"}), required=False)
    radio = forms.ChoiceField(choices=[("1", "One"), ("2", "Two")], widget=forms.RadioSelect, required=False)


BOUND = {
    "text": "<script>alert('x')</script>",
    "number": "12",
    "hidden": 'a"b',
    "password": "pw&",
    "when": "2026-12-03",
    "at": "2026-12-03 10:00",
    "agree": "on",
    "note": "line 1\n<line 2>",
    "phase": "b",
    "grouped": "x",
    "sizes": "25",
    "many": ["p", "r"],
    "split_0": "2026-12-03",
    "split_1": "10:00",
    "dates_after": "2026-01-01",
    "dates_before": "",
    "numbers_min": "1.5",
    "radio": "2",
}


@pytest.mark.parametrize(
    "data", [None, BOUND, {"number": "x", "when": "not a date"}], ids=["unbound", "bound", "errors"]
)
def test_it_renders_every_widget_as_the_templates_do(data):
    initial = {"when": datetime.date(2026, 4, 1), "at": datetime.datetime(2026, 4, 1, 9, 30), "agree": True}
    fast = EveryWidgetForm(data, initial=initial, renderer=FastDjangoTemplates())
    plain = EveryWidgetForm(data, initial=initial, renderer=DjangoTemplates())
    for name in fast.fields:
        assert str(fast[name]) == str(plain[name]), name


def test_it_escapes_what_the_user_typed():
    html = str(EveryWidgetForm(BOUND, renderer=FastDjangoTemplates())["text"])
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_it_is_the_project_renderer(settings):
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastDjangoTemplates)
