"""Form fields in Bootstrap 5 markup: `{{ field|as_field }}`, `{{ form|as_form }}`, `{{ form|as_form_errors }}`.

The markup is that of crispy-forms' bootstrap5 pack (`as_crispy_field`, `|crispy`, `as_crispy_errors`
with their defaults), written here in Python: crispy renders each field through five templates, which
made the filter form alone a quarter of a list page's time. Widgets crispy lays out in templates of its
own (radios, checkbox lists, file inputs) are still handed to crispy."""

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field
from django import forms, template
from django.conf import settings
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_LAID_OUT_BY_CRISPY = (forms.RadioSelect, forms.CheckboxSelectMultiple, forms.FileInput)


def _add_classes(field, classes: str) -> None:
    """What crispy's {% crispy_field field 'class' … %} does to the widget: its class name (e.g.
    "select") and the Bootstrap classes are added to each (sub)widget's class attribute."""
    widget = field.field.widget
    converters = getattr(settings, "CRISPY_CLASS_CONVERTERS", {})
    for each in getattr(widget, "widgets", [getattr(widget, "widget", widget)]):
        class_name = each.__class__.__name__.lower()
        class_name = converters.get(class_name, class_name)
        css = each.attrs.get("class", "")
        if css:
            if css.find(class_name) == -1:
                css += f" {class_name}"
        else:
            css = class_name
        present = css.split()
        for name in classes.split():
            if name not in present:
                css += f" {name}"
                present.append(name)
        each.attrs["class"] = css


def _widget(field, classes: str) -> str:
    _add_classes(field, f"{classes} is-invalid" if field.errors else classes)
    return str(field)


def _errors_and_help(field) -> str:
    html = ""
    if field.errors:
        lines = format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((n, field.auto_id, e) for n, e in enumerate(field.errors, 1)),
        )
        html += format_html(
            '<div id="{}_error" class="invalid-feedback">{}</div>', getattr(field.errors, "field_id", ""), lines
        )
    if field.help_text:
        help_id = format_html('id="{}_helptext" ', field.auto_id) if field.auto_id else ""
        # crispy prints help texts with |safe: they are the form's own text, never user input
        html += format_html('<div {}class="form-text">{}</div>', help_id, mark_safe(str(field.help_text)))  # noqa: S308
    return html


def _required_mark(field) -> str:
    return '<span class="asteriskField">*</span>' if field.field.required else ""


def _checkbox(field) -> str:
    required = " requiredField" if field.field.required else ""
    return format_html(
        '<div class="mb-3"><div id="div_{}" class="form-check{}">{}'
        '<label for="{}" class="form-check-label{}">{}{}</label>{}</div></div>',
        field.auto_id,
        _css_classes(field),
        mark_safe(_widget(field, "form-check-input")),  # noqa: S308 - rendered by the widget, escaped there
        field.id_for_label,
        required,
        field.label,
        mark_safe(_required_mark(field)),  # noqa: S308 - our own markup
        mark_safe(_errors_and_help(field)),  # noqa: S308 - built with format_html
    )


def _css_classes(field) -> str:
    css = field.css_classes()
    return f" {css}" if css else ""


def render_field(field) -> SafeString:
    widget = field.field.widget
    if field.is_hidden:
        return mark_safe(str(field))  # noqa: S308 - rendered by the widget
    if isinstance(widget, _LAID_OUT_BY_CRISPY):
        return as_crispy_field(field)
    if isinstance(widget, forms.CheckboxInput):
        return mark_safe(_checkbox(field))  # noqa: S308 - built with format_html
    fieldset = field.use_fieldset
    label = ""
    if field.label:
        tag = "legend" if fieldset else "label"
        label = format_html(
            '<{} {}class="form-label{}{}">{}{}</{}>',
            tag,
            format_html('for="{}" ', field.id_for_label) if field.id_for_label else "",
            " requiredField" if field.field.required else "",
            " fs-6" if fieldset else "",
            field.label,
            mark_safe(_required_mark(field)),  # noqa: S308 - our own markup
            tag,
        )
    classes = "form-select" if isinstance(widget, forms.Select) else "form-control"
    body = label + _widget(field, classes) + _errors_and_help(field)
    if label and fieldset:
        describedby = field.aria_describedby
        body = format_html(
            "<fieldset{}>{}</fieldset>",
            format_html(' aria-describedby="{}"', describedby) if describedby else "",
            mark_safe(body),  # noqa: S308 - built with format_html
        )
    return format_html('<div id="div_{}" class="mb-3{}">{}</div>', field.auto_id, _css_classes(field), mark_safe(body))  # noqa: S308


@register.filter
def as_field(field) -> SafeString:
    """One field: its label, widget, errors and help text (crispy's `as_crispy_field`)."""
    return render_field(field)


@register.filter
def as_form_errors(form) -> SafeString:
    """The errors that belong to no field, in an alert (crispy's `as_crispy_errors`)."""
    errors = form.non_field_errors()
    if not errors:
        return mark_safe("")
    items = format_html_join("\n", "\t<li>{}</li>", ((error,) for error in errors))
    return format_html('<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>', items)


@register.filter
def as_form(form) -> SafeString:
    """The form's errors, then every field in order, hidden ones included (crispy's `|crispy`)."""
    return mark_safe(as_form_errors(form) + "".join(render_field(field) for field in form))  # noqa: S308
