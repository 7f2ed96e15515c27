"""Demo customer base for the demo chain: a few hundred customers over four years.

Value histories come from the labelled generator (all seven types occur); names and the
link to the demo chain's actors make them look like an adhesives maker's customers.
"""

import numpy as np
import pandas as pd
from django.db import transaction

from chain.models import Actor

from .models import Customer
from .services import analysis_run_create, value_records_load
from .synthetic import generate

# (actor name in the demo catalog, number of customers, revenue scale, name pattern)
SEGMENTS = [
    ("BauRing Baustoffhandel Gruppe", 40, 40.0, "BauRing Niederlassung {city}"),
    ("Fliesen-Fachhandel Maier KG", 5, 25.0, "Fliesen Maier Filiale {city}"),
    ("Fliesenleger-Betriebe Region Süd", 170, 3.0, "Fliesen {name} {form}"),
    ("Bodenleger-Betriebe", 70, 2.0, "Bodenbeläge {name} {form}"),
    ("Wohnungsbaugesellschaften", 15, 12.0, "Wohnbau {city} {form2}"),
]
CITIES = [
    "Augsburg", "München", "Regensburg", "Ingolstadt", "Ulm", "Stuttgart", "Nürnberg",
    "Würzburg", "Kempten", "Landshut", "Passau", "Rosenheim", "Freising", "Heilbronn",
    "Reutlingen", "Konstanz", "Freiburg", "Karlsruhe", "Mannheim", "Bamberg",
]  # fmt: skip
NAMES = [
    "Huber", "Maier", "Schmid", "Wagner", "Bauer", "Gruber", "Hofmann", "Berger", "Kaya",
    "Wolf", "Fischer", "Weber", "Schneider", "Koch", "Richter", "Klein", "Lang", "Brandl",
    "Zeller", "Eder", "Pichler", "Moser", "Wimmer", "Steiner", "Yilmaz", "Novak", "Kraus",
]  # fmt: skip
FORMS = ["GmbH", "e.K.", "GmbH & Co. KG", "Meisterbetrieb", "& Sohn"]
FORMS2 = ["eG", "GmbH", "AG"]
DISTRICTS = ["Nord", "Süd", "Ost", "West", "Mitte", "Land"]
MONTHS = 48


def demo_customers_create(*, as_of: pd.Timestamp) -> int:
    """Create the demo customers with their histories and analyse them; 0 if they exist."""
    if Customer.objects.filter(number__startswith="K-").exists():
        return 0
    total = sum(n for _, n, _, _ in SEGMENTS)
    history, _types, _future = generate(total, seed=2026, as_of=as_of, months=MONTHS)
    ids = history["customer_id"].astype(str)
    numbers = {old: f"K-{10001 + i}" for i, old in enumerate(sorted(ids.unique()))}
    history = history.assign(customer_id=ids.map(numbers))
    rng = np.random.default_rng(2026)
    names, scale, actors = {}, {}, {}
    customers = iter(sorted(numbers.values()))
    taken: set[str] = set()
    for actor, n, factor, pattern in SEGMENTS:
        for _ in range(n):
            number = next(customers)
            name = pattern.format(
                city=rng.choice(CITIES),
                name=rng.choice(NAMES),
                form=rng.choice(FORMS),
                form2=rng.choice(FORMS2),
            )
            # Two branches in one city are told apart by district, as real ones are.
            for district in DISTRICTS:
                if name not in taken:
                    break
                name = f"{name.split(' (')[0]} ({district})"
            if name in taken:
                name = f"{name} {number}"
            taken.add(name)
            names[number] = name
            scale[number] = factor * rng.uniform(0.6, 1.6)
            actors[number] = actor
    factor = history["customer_id"].map(scale)
    history = history.assign(
        revenue=(history["revenue"] * factor).round(2),
        margin=(history["margin"] * factor).round(2),
        customer_name=history["customer_id"].map(names),
    )
    with transaction.atomic():
        value_records_load(history=history)
        by_name = dict(Actor.objects.values_list("name", "pk"))
        for actor_name in {a for a, *_ in SEGMENTS}:
            members = [n for n, a in actors.items() if a == actor_name]
            Customer.objects.filter(number__in=members).update(actor_id=by_name.get(actor_name))
    analysis_run_create(as_of=as_of)
    return len(numbers)
