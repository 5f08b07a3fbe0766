"""The form renderer (settings.FORM_RENDERER): Django's, with its commonest widget templates written in
Python. A select of 20 options rendered by the templates is 40 template renders (an option and its
attributes each); list and record pages show a dozen such fields, and that was a fifth of their time.
The markup is the templates' own, byte for byte (crm/tests/test_renderers.py compares them); any
other template (a custom widget's, radios, form and error templates) is still rendered by Django."""

import functools

from django.forms.renderers import DjangoTemplates
from django.template.defaultfilters import stringformat
from django.utils.formats import localize
from django.utils.html import conditional_escape, strip_spaces_between_tags
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime

_WIDGETS = "django/forms/widgets/"
# Templates that are only {% include "django/forms/widgets/input.html" %}.
_INPUTS = {
    f"{_WIDGETS}{name}.html"
    for name in (
        "input",
        "text",
        "hidden",
        "email",
        "number",
        "password",
        "search",
        "tel",
        "url",
        "date",
        "datetime",
        "time",
        "color",
        "checkbox",
        "file",
    )
}
_SELECT = f"{_WIDGETS}select.html"
_OPTION = f"{_WIDGETS}select_option.html"
_TEXTAREA = f"{_WIDGETS}textarea.html"
_MULTIWIDGET = f"{_WIDGETS}multiwidget.html"
# django-filter's range widgets: the two inputs with a dash between them.
_FILTER_MULTIWIDGET = "django_filters/widgets/multiwidget.html"


def _text(value) -> str:
    """{{ value }}: localised and escaped, as the template engine prints a variable."""
    value = localize(template_localtime(value))
    if not issubclass(type(value), str):
        value = str(value)
    return conditional_escape(value)


def _formatted(value) -> str:
    """{{ value|stringformat:'s' }}: the filter keeps a safe string safe, and so unescaped."""
    text = stringformat(value, "s")
    return text if isinstance(value, SafeData) else conditional_escape(text)


def _attrs(attrs: dict) -> str:
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        parts.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_formatted(value)}"')
    return "".join(parts)


def _input(widget: dict) -> str:
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _option(option: dict) -> str:
    return f'<option value="{_formatted(option["value"])}"{_attrs(option["attrs"])}>{_text(option["label"])}</option>'


def _textarea(widget: dict) -> str:
    value = _text(widget["value"]) if widget["value"] else ""
    return f'<textarea name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>\n{value}</textarea>'


class FastDjangoTemplates(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if isinstance(context, dict) else None
        if widget is None:
            return super().render(template_name, context, request=request)
        if template_name in _INPUTS:
            return _input(widget)
        if template_name == _SELECT:
            return self._select(widget, context, request)
        if template_name == _TEXTAREA:
            return _textarea(widget)
        if template_name == _MULTIWIDGET:
            html = "".join(self._included(sub, context, request) for sub in widget["subwidgets"])
            return strip_spaces_between_tags(html.strip())
        if template_name == _FILTER_MULTIWIDGET:
            parts = [self._included(sub, context, request) for sub in widget["subwidgets"]]
            return ("-".join(parts[:2]) + "".join(parts[2:])).strip()
        return super().render(template_name, context, request=request)

    def _included(self, widget: dict, context: dict, request) -> str:
        """A widget {% include %}d by another's template: not stripped, so with its template's last newlines."""
        name = widget["template_name"]
        if name in _INPUTS:
            return _input(widget) + self._tail(name)
        if name == _OPTION:
            return _option(widget) + self._tail(name)
        return self.get_template(name).render({**context, "widget": widget}, request=request)

    @functools.cache  # noqa: B019 - one renderer for the process, a dozen template names
    def _tail(self, template_name: str) -> str:
        """The whitespace the template ends with (its file's last newline, and those of its includes)."""
        sample = {"type": "text", "name": "x", "value": "", "label": "", "attrs": {}, "template_name": template_name}
        html = self.get_template(template_name).render({"widget": sample})
        return html[len(html.rstrip()) :]

    def _select(self, widget: dict, context: dict, request) -> str:
        parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for option in options:
                parts.append("\n  ")
                parts.append(self._included(option, context, request))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return "".join(parts)
