"""The README's first command: `cobro demo` on an empty data folder, then again (data kept)."""

import os
import subprocess
import sys


def test_demo_on_an_empty_data_folder_and_again(tmp_path):
    env = {**os.environ, "COBRO_DATA_DIR": str(tmp_path / "var")}
    env.pop("COBRO_DATABASE_URL", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    first = subprocess.run([sys.executable, "-m", "cobro", "demo", "--customers", "40"], env=env,
                           capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr
    assert "Created the demo organization" in first.stdout and "admin@demo.cobro" in first.stdout
    count = [sys.executable, "-m", "cobro", "shell", "-c",
             "from cobro.ledger.models import *; print(Customer.objects.count(), Invoice.objects.count(),"
             " Payment.objects.count(), CreditNote.objects.count())"]
    before = subprocess.run(count, env=env, capture_output=True, text=True).stdout.split()[-4:]
    second = subprocess.run([sys.executable, "-m", "cobro", "demo"], env=env, capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0 and "Kept the demo organization" in second.stdout
    after = subprocess.run(count, env=env, capture_output=True, text=True).stdout.split()[-4:]
    assert before == after and int(before[0]) == 40 and int(before[1]) > 80 and int(before[3]) > 0
    names = subprocess.run([sys.executable, "-m", "cobro", "shell", "-c",
                            "from cobro.ledger.models import Customer; "
                            "print(Customer.objects.values('name').distinct().count())"],
                           env=env, capture_output=True, text=True).stdout.split()[-1]
    assert names == "40"  # no two demo customers share a name


def test_a_taken_demo_name_is_drawn_again_from_its_own_generator():
    import itertools
    import random

    from cobro.ledger.demo import KINDS, PLACES, SUFFIX, _distinct_name

    taken = set()
    first = _distinct_name("Ferretería Andina SpA", "CL", taken, random.Random(1))
    again = _distinct_name("Ferretería Andina SpA", "CL", taken, random.Random(2))
    assert first == "Ferretería Andina SpA" and again != first and taken == {first, again}
    # Every combination taken: the name still differs, by a number.
    every = {" ".join(parts) for parts in itertools.product(KINDS["CL"], PLACES["CL"], SUFFIX["CL"])}
    n = len(every)
    crowded = _distinct_name(sorted(every)[0], "CL", every, random.Random(3))
    assert crowded == f"{sorted(every)[0]} ({n + 1})" and crowded in every
