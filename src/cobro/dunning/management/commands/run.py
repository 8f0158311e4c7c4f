import os
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cobro.dunning.supervise import supervise


def child_env() -> dict:
    """The children's environment: without an SMTP server configured, e-mail goes to files."""
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "cobro.settings")
    env["COBRO_DATA_DIR"] = str(settings.DATA_DIR)
    if not env.get("COBRO_EMAIL_BACKEND") and not env.get("COBRO_EMAIL_HOST"):
        env["COBRO_EMAIL_BACKEND"] = "django.core.mail.backends.filebased.EmailBackend"
        env.setdefault("COBRO_EMAIL_FILE_PATH", settings.EMAIL_FILE_PATH)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Command(BaseCommand):
    help = ("Run Cobro in one process tree: set up the demo, then the web server and the worker as children; "
            "Ctrl-C (or SIGTERM) stops them all. Without COBRO_EMAIL_HOST or COBRO_EMAIL_BACKEND, e-mail is "
            "written to files in COBRO_EMAIL_FILE_PATH (default var/mail). Used by `make run`.")

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="where the web server listens")
        parser.add_argument("--no-demo", action="store_true",
                            help="do not set up the demo organization (the database is still migrated)")
        parser.add_argument("--every", type=int, default=60, help="seconds between the worker's passes")
        parser.add_argument("--grace", type=float, default=10.0,
                            help="seconds a child has to stop before it is killed (default 10)")

    def handle(self, *args, addrport, no_demo, every, grace, **opts):
        if ":" not in addrport and not addrport.isdigit():
            raise CommandError(f"{addrport!r} is not an address like 127.0.0.1:8000")
        if no_demo:
            call_command("migrate", interactive=False, verbosity=0)
        else:
            call_command("demo", stdout=self.stdout, stderr=self.stderr)
        env = child_env()
        if env.get("COBRO_EMAIL_BACKEND", "").endswith("filebased.EmailBackend"):
            self.stdout.write(f"No SMTP server configured: e-mails are written to {env['COBRO_EMAIL_FILE_PATH']}")
        worker = [sys.executable, "-m", "cobro", "worker", "--every", str(every)]
        if not no_demo:
            worker.append("--demo")
        commands = {"web": [sys.executable, "-m", "cobro", "runserver", addrport, "--noreload"], "worker": worker}
        self.stdout.flush()
        code = supervise(commands, env=env, write=lambda line: (self.stdout.write(f"cobro run: {line}"),
                                                                self.stdout.flush()), grace=grace)
        if code:
            raise SystemExit(code)
