"""The `cobro` command as a person runs it: a real subprocess, a scratch data folder."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared" / "checks"


def cobro(tmp_path, *args, stdin=None):
    env = {**os.environ, "COBRO_DATA_DIR": str(tmp_path)}
    env.pop("COBRO_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-m", "cobro", *args], env=env, capture_output=True, text=True,
                          input=stdin, timeout=120)


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    assert cobro(tmp, "migrate", "--noinput").returncode == 0
    made = cobro(tmp, "org", "create", "acme", "--name", "Acme", "--country", "CL", "--currency", "USD")
    assert made.returncode == 0, made.stderr
    return tmp


def test_help_lists_commands(tmp_path):
    out = cobro(tmp_path, "--help").stdout
    for command in ("import", "export", "org", "user", "demo"):
        assert command in out


def test_import_export_and_bad_file_exit_status(ready, tmp_path):
    good = tmp_path / "f.csv"
    good.write_text("factura;cliente;razon social;fecha de emision;fecha de vencimiento;monto\n"
                    "F-1;C-1;Ferretería Uno;05/01/2026;04/02/2026;1.234,50\n", encoding="utf-8")
    run = cobro(ready, "import", "invoices", str(good), "--org", "acme")
    assert run.returncode == 0 and "1 were created" in run.stdout, run.stderr
    out = cobro(ready, "export", "invoices", "--org", "acme").stdout.splitlines()
    assert out[1].startswith("F-1,C-1,Ferretería Uno,2026-01-05,2026-02-04,USD,1234.50")
    bad = tmp_path / "bad.csv"
    bad.write_text("factura,cliente,fecha de emision,fecha de vencimiento,monto\nX,C,2026-01-01,2026-01-31,abc\n")
    run = cobro(ready, "import", "invoices", str(bad), "--org", "acme")
    assert run.returncode == 2
    assert "row 2, column amount: not an amount: 'abc'" in run.stderr and "Nothing was imported" in run.stderr


def test_xlsx_export_and_user_creation(ready, tmp_path):
    target = tmp_path / "out.xlsx"
    assert cobro(ready, "export", "customers", "--org", "acme", "--format", "xlsx", "--output",
                 str(target)).returncode == 0
    assert target.read_bytes()[:2] == b"PK"
    made = cobro(ready, "user", "create", "ana@acme.cl", "--org", "acme", "--role", "agent")
    assert made.returncode == 0 and "password:" in made.stdout
    assert cobro(ready, "user", "create", "ana@acme.cl", "--org", "nope", "--role", "agent").returncode != 0


def test_clear_errors_for_unknown_org_and_currency(ready):
    run = cobro(ready, "org", "create", "x", "--name", "X", "--currency", "ABC")
    assert run.returncode != 0 and "unknown currency 'ABC'" in run.stderr
    run = cobro(ready, "import", "invoices", "/nonexistent.csv", "--org", "acme")
    assert run.returncode != 0 and "no such file" in run.stderr


@pytest.mark.skipif(not SHARED.exists(), reason="the shared checks folder is not beside the project")
def test_shared_sample_files_import(ready):
    assert cobro(ready, "import", "invoices", str(SHARED / "invoices.csv"), "--org", "acme").returncode == 0
    assert cobro(ready, "import", "payments", str(SHARED / "payments.csv"), "--org", "acme").returncode == 0
    bad = cobro(ready, "import", "invoices", str(SHARED / "invoices-bad.csv"), "--org", "acme")
    assert bad.returncode == 2 and "row 3, column due_date" in bad.stderr
