import time

from django.core.management.base import BaseCommand, CommandError

from cobro.dunning.cli import date_arg, json_line, organization
from cobro.dunning.simulate import simulate


class Command(BaseCommand):
    help = ("Replay the cycle day by day over history, in memory (nothing is sent or changed), "
            "to try a policy before using it.")

    def add_arguments(self, parser):
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--json", action="store_true", help="one JSON object per action, with as_of")

    def handle(self, *args, **opts):
        org = organization(opts["org"])
        start, end = date_arg(opts["start"], "--from"), date_arg(opts["end"], "--to")
        if end < start:
            raise CommandError(f"--to {end} is before --from {start}")
        began = time.perf_counter()
        actions = simulate(org, start, end)
        if opts["json"]:
            for obj in actions:
                self.stdout.write(json_line(obj))
            return
        counts: dict[str, int] = {}
        for obj in actions:
            name = f"{obj['action']} {obj['channel']}"
            counts[name] = counts.get(name, 0) + 1
        days = (end - start).days + 1
        self.stdout.write(f"{org.slug}: {days} days replayed in {time.perf_counter() - began:.1f} s, "
                          f"{len(actions)} actions.")
        for name, n in sorted(counts.items()):
            self.stdout.write(f"  {name:<22} {n}")
