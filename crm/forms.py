"""Forms of the crm app: preferences and the password reset that mails through Celery."""

from functools import partial

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.template import loader

from crm.models import User
from crm.tasks import send_email_task


class QueuedPasswordResetForm(PasswordResetForm):
    """Password reset whose email is sent by a worker, so a slow SMTP server never blocks the page."""

    def send_mail(
        self, subject_template_name, email_template_name, context, from_email, to_email, html_email_template_name=None
    ):
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        html = loader.render_to_string(html_email_template_name, context) if html_email_template_name else None
        transaction.on_commit(
            partial(send_email_task.delay, subject=subject, body=body, from_email=from_email, to=[to_email], html=html)
        )


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "time_zone"]
