import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
application = get_wsgi_application()

# Serving without a secret key would fail on the first session or form; fail before the first request.
try:
    settings.SECRET_KEY  # noqa: B018 - Django refuses an empty key when it is read
except ImproperlyConfigured as error:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.") from error
