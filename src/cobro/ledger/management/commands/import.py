import sys
from importlib import import_module

from django.core.management.base import BaseCommand, CommandError

from cobro.ledger.importing import MAX_PROBLEMS_SHOWN, ImportFailed, import_file
from cobro.ledger.models import Organization
from cobro.ledger.tables import TableError, read_bytes

# Other apps import their own kinds of file through this command (`cobro import statement ...`,
# `cobro import einvoice ...`): each module has ``add_arguments(parser)`` and ``handle(command, **options)``.
OTHER_KINDS = {
    "einvoice": "cobro.einvoice.cli",
    "statement": "cobro.payments.cli",
}


class Command(BaseCommand):
    help = ("Import customers, invoices or payments from CSV or XLSX (and the other kinds listed below). "
            "Every bad row is reported as 'row N, column X: ...' and nothing is written (exit status 2). "
            "See docs/import.md.")

    def add_arguments(self, parser):
        kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
        for kind in ("customers", "invoices", "payments"):
            sub = kinds.add_parser(kind, help=f"{kind} from a CSV or XLSX file")
            sub.add_argument("path", help="a .csv or .xlsx file, or - for standard input")
            sub.add_argument("--org", required=True, help="organization slug")
            sub.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
        for kind, module in OTHER_KINDS.items():
            import_module(module).add_arguments(kinds.add_parser(kind, help=import_module(module).HELP))

    def handle(self, *args, kind, **opts):
        if kind in OTHER_KINDS:
            return import_module(OTHER_KINDS[kind]).handle(self, **opts)
        return self.import_table(kind=kind, **opts)

    def import_table(self, *, kind, path, org, dry_run, **opts):
        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(f"no organization {org!r} (see `cobro org list`)")
        try:
            data = read_bytes(path)
        except TableError as exc:
            raise CommandError(str(exc)) from None
        with _Progress(path) as progress:
            try:
                result = import_file(organization, kind, data, name=path, dry_run=dry_run, progress=progress)
            except ImportFailed as failed:
                progress.stop()
                self.fail([f"{path}: {problem}" for problem in failed.problems], f" in {path}")
        self.done(result, dry_run)

    def fail(self, problems: list, where: str = "") -> None:
        """Report what is wrong (the first problems, and how many more) and exit 2: nothing was written."""
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            self.stderr.write(str(problem))
        more = len(problems) - MAX_PROBLEMS_SHOWN
        if more > 0:
            self.stderr.write(f"... and {more} more problems")
        self.stderr.write(f"Nothing was imported: {len(problems)} problem(s){where}.")
        sys.exit(2)

    def done(self, result, dry_run: bool) -> None:
        for note in result.notes:
            self.stdout.write(f"Note: {note}")
        self.stdout.write(("Dry run: " if dry_run else "") + result.summary())


class _Progress:
    """A progress bar on the terminal for long files; silent when output is not a terminal."""

    def __init__(self, label: str):
        self.label, self._bar, self._task = label, None, None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 transient=True)
        return self

    def __call__(self, done: int) -> None:
        if self._bar is None:
            return
        if self._task is None:
            self._bar.start()
            self._task = self._bar.add_task(f"Checking {self.label}", total=None)
        self._bar.update(self._task, completed=done)

    def stop(self):
        if self._bar is not None and self._task is not None:
            self._bar.stop()
            self._task = None

    def __exit__(self, *exc):
        self.stop()
        return False
