"""Security headers and sessions (issue #10): a CSP that forbids inline script, and no page carries
any; HSTS and secure cookies in production; login rate limiting per account and per address;
Django's password validators; ``cobro check --deploy`` clean with production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from cobro.ledger.models import Membership, Organization

SRC = Path(__file__).resolve().parents[2] / "src" / "cobro"


def test_every_answer_has_a_csp_without_inline_script(client, db):
    for path in ("/login/", "/does-not-exist/"):
        csp = client.get(path)["Content-Security-Policy"]
        script = re.search(r"script-src ([^;]*)", csp).group(1)
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp


def test_no_template_has_inline_script_or_event_handlers():
    offenders = []
    for path in SRC.rglob("templates/**/*.html"):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"<script\b([^>]*)>", text):
            attrs = m.group(1)
            if "src=" not in attrs and "application/json" not in attrs:
                offenders.append(f"{path.relative_to(SRC)}: inline <script>")
        if re.search(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(SRC)}: on…= handler")
    assert not offenders, offenders


@pytest.fixture
def member(db, django_user_model):
    org = Organization.objects.create(slug="acme", name="Acme", country="CL", currency="CLP")
    user = django_user_model.objects.create_user("rosa", password="Clave-Larga-2026")
    Membership.objects.create(user=user, organization=org, role="agent")
    return user


def test_login_is_limited_per_account(member, settings):
    settings.COBRO_LOGIN_MAX_PER_ACCOUNT, settings.COBRO_LOGIN_WINDOW_MINUTES = 3, 15
    with time_machine.travel("2026-06-01 10:00Z", tick=False):
        for n in range(3):
            Client(REMOTE_ADDR=f"10.0.0.{n}").post("/login/", {"username": "rosa", "password": "mala"})
        locked = Client(REMOTE_ADDR="10.0.0.9").post("/login/", {"username": "rosa", "password": "Clave-Larga-2026"})
        assert locked.status_code == 429 and "Demasiados intentos fallidos" in locked.content.decode()
        assert "_auth_user_id" not in locked.wsgi_request.session
    with time_machine.travel("2026-06-01 10:16Z", tick=False):
        ok = Client(REMOTE_ADDR="10.0.0.9").post("/login/", {"username": "rosa", "password": "Clave-Larga-2026"})
        assert ok.status_code == 302


def test_login_is_limited_per_address_and_translated(member, settings):
    settings.COBRO_LOGIN_MAX_PER_IP = 4
    c = Client(REMOTE_ADDR="10.9.9.9")
    with time_machine.travel("2026-06-01 10:00Z", tick=False):
        for n in range(4):
            c.post("/login/", {"username": f"nadie{n}", "password": "x"})
        c.cookies["django_language"] = "en"
        locked = c.post("/login/", {"username": "rosa", "password": "Clave-Larga-2026"}, HTTP_ACCEPT_LANGUAGE="en")
        assert locked.status_code == 429 and "Too many failed sign-in attempts" in locked.content.decode()
        other = Client(REMOTE_ADDR="10.1.1.1").post("/login/", {"username": "rosa", "password": "Clave-Larga-2026"})
        assert other.status_code == 302


def test_password_validators_refuse_weak_passwords(db):
    for weak in ("123", "password", "12345678901"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("Tortuga-Verde-2026")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COBRO_") and k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"COBRO_SECRET_KEY": "k" * 20 + "-production-only-" + "x9Q" * 12, "COBRO_ALLOWED_HOSTS": "cobro.example.com",
                "COBRO_SSL_REDIRECT": "1", "COBRO_DATA_DIR": str(tmp_path)})
    out = subprocess.run([sys.executable, "-m", "cobro", "check", "--deploy", "--fail-level", "WARNING"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout
    shown = subprocess.run([sys.executable, "-m", "cobro", "shell", "-c",
                            "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,"
                            " s.SECURE_HSTS_SECONDS)"], env=env, capture_output=True, text=True, timeout=300)
    assert "True True 31536000" in shown.stdout, shown.stdout + shown.stderr
