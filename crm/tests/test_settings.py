"""Production settings: the deploy check is clean, and a missing secret fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

from django.utils.crypto import get_random_string

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    # Outside pytest's environment, as production runs it.
    clean = {
        key: value for key, value in os.environ.items() if key != "PYTEST_VERSION" and not key.startswith("DJANGO_")
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=get_random_string(60),
        DJANGO_ALLOWED_HOSTS="crm.example.com",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://crm.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_serve_without_a_secret_key():
    result = run_manage("shell", "-c", "import crm.wsgi", DJANGO_ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_commands_that_need_no_secret_key_run_without_one():
    # e.g. checking the migrations on a build machine that has no production secrets
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout


def test_debug_is_off_unless_asked():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        DJANGO_SECRET_KEY=get_random_string(60),
    )
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr
