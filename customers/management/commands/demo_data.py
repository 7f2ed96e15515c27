"""Create one complete demo chain (an adhesives maker, in German) and the logins to see it.

Safe to run again: users, teams and catalogs are get-or-create, and an existing demo chain
is left as it is.
"""

from datetime import date

import pandas as pd
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.management.base import BaseCommand
from django.db import transaction

from chain.models import (
    Actor,
    ActorKind,
    Chain,
    ChainLink,
    CompetitivePosition,
    Contact,
    Influence,
    Question,
    Stage,
    StageRole,
    SuccessFactor,
    Team,
)
from chain.services import answer_save, chain_create, link_add, stage_add, stage_reorder
from customers.demo import demo_customers_create

LOGIN_URL = "http://localhost:8000/"
DEMO_PASSWORD = "demo-chain-2026"
ADMIN_PASSWORD = "admin-chain-2026"
TEAM = "Vertrieb Bauklebstoffe"
OTHER_TEAM = "Vertrieb Industrie"
SCOPE = "Montagekleber ProFix für das Fliesenhandwerk"
OWN = "Kleber & Co. GmbH"

ACTOR_KINDS = [
    "Rohstofflieferant",
    "Hersteller",
    "Großhandel/Fachhandel",
    "Handwerksbetrieb",
    "Endkunde",
    "Servicepartner",
    "Planer/Architekt",
]

SUCCESS_FACTORS = [
    "Lieferfähigkeit",
    "Produktqualität",
    "Preis",
    "Technische Beratung",
    "Verarbeitungszeit",
    "Zertifizierungen/Normen",
    "Logistik",
    "Schulungen",
    "Sortimentsbreite",
    "Marke/Bekanntheit",
    "Gewährleistung",
    "Emissionsarmut (EMICODE)",
]

Size = Actor.Size
Position = CompetitivePosition

# The actor catalog: (name, kind, size, competitive position, count, notes).
ACTORS = [
    (
        OWN,
        "Hersteller",
        Size.MEDIUM,
        Position.CHALLENGER,
        1,
        "Familienunternehmen in Augsburg, 180 Mitarbeitende, Bauklebstoffe und Dichtstoffe. "
        "Stärken: eigene Anwendungstechnik und kurze Lieferzeiten in Süddeutschland.",
    ),
    (
        "PolyChem Dispersionen AG",
        "Rohstofflieferant",
        Size.GROUP,
        Position.LEADER,
        1,
        "Liefert das silanmodifizierte Polymer (SMP) für ProFix; einer von drei relevanten "
        "Anbietern in Europa.",
    ),
    (
        "Südkalk Füllstoffwerke GmbH",
        "Rohstofflieferant",
        Size.MEDIUM,
        Position.FOLLOWER,
        1,
        "Calciumcarbonat und Kreide aus dem Werk bei Regensburg; austauschbar, aber kurze Wege.",
    ),
    (
        "Wendt Kartuschen & Verpackung GmbH",
        "Rohstofflieferant",
        Size.SMALL,
        Position.NICHE,
        1,
        "Kartuschen (310 ml) und Schlauchbeutel (600 ml). Der Einkauf betreut den Lieferanten.",
    ),
    (
        "BauRing Baustoffhandel Gruppe",
        "Großhandel/Fachhandel",
        Size.GROUP,
        Position.LEADER,
        1,
        "Bundesweite Baustoffhandelsgruppe mit rund 280 Standorten, davon 46 in Bayern und "
        "Baden-Württemberg. Listung zentral in Hannover, Abverkauf über die Niederlassungen.",
    ),
    (
        "Fliesen-Fachhandel Maier KG",
        "Großhandel/Fachhandel",
        Size.MEDIUM,
        Position.NICHE,
        1,
        "Regionaler Fliesenspezialist mit 6 Standorten in Oberbayern und Schwaben, eigener "
        "Ausstellung und Baustellenlogistik.",
    ),
    (
        "Fliesenleger-Betriebe Region Süd",
        "Handwerksbetrieb",
        Size.MICRO,
        Position.FOLLOWER,
        420,
        "Meisterbetriebe mit 2 bis 15 Beschäftigten zwischen Ulm, München und Rosenheim; "
        "kaufen überwiegend bei BauRing und Maier.",
    ),
    (
        "Bodenleger-Betriebe",
        "Handwerksbetrieb",
        Size.MICRO,
        Position.FOLLOWER,
        180,
        "Parkett- und Bodenleger; nutzen ProFix für Sockelleisten und Übergangsprofile.",
    ),
    (
        "Fliesenleger-Innung Schwaben-Oberbayern",
        "Servicepartner",
        Size.SMALL,
        Position.NICHE,
        1,
        "Innung mit eigenem Ausbildungszentrum; organisiert Meisterkurse und Produktschulungen.",
    ),
    (
        "Architekturbüro Hahn + Partner",
        "Planer/Architekt",
        Size.SMALL,
        Position.NICHE,
        1,
        "Spezialisiert auf Bestandssanierung im Geschosswohnungsbau; schreibt für mehrere "
        "Wohnungsbaugesellschaften aus.",
    ),
    (
        "Wohnungsbaugesellschaften",
        "Endkunde",
        Size.LARGE,
        "",  # no competitive position: they are landlords, not our market's rivals
        35,
        "Kommunale und genossenschaftliche Wohnungsunternehmen in Südbayern mit laufenden "
        "Programmen zur Badsanierung.",
    ),
    (
        "Bauherren Sanierung",
        "Endkunde",
        "",  # private households have no size class
        "",
        12000,
        "Private Eigentümer, die Bad oder Küche sanieren lassen; entscheiden über Budget und "
        "Termin, selten über das Klebersystem.",
    ),
]

Relationship = ChainLink.Relationship

# Each actor's place in the chain: (actor, stage, importance, relationship,
# success factors from the catalog, other success factors, problems and needs).
MEMBERS = [
    (
        OWN,
        "Hersteller",
        5,
        "",  # none of the relationship choices describes ourselves
        ["Produktqualität", "Technische Beratung", "Lieferfähigkeit"],
        "Muster innerhalb von 24 Stunden, Anwendungstechniker binnen 48 Stunden auf der Baustelle.",
        "ProFix ist bei den Händlern gelistet, an der Theke aber kaum bekannt. Gegen die "
        "Marken der Großkonzerne sind wir im Handwerk zu wenig sichtbar.",
    ),
    (
        "PolyChem Dispersionen AG",
        "Rohstofflieferanten",
        4,
        Relationship.SUPPLIER,
        ["Lieferfähigkeit", "Produktqualität", "Preis"],
        "Bei Engpässen teilt PolyChem die Mengen zuerst den Großkunden zu.",
        "Verlangt Jahresmengen-Zusagen; Preisgleitklausel an den Rohölpreis gekoppelt. Sucht "
        "Referenzen im Fliesenbereich für die eigene Vermarktung.",
    ),
    (
        "Südkalk Füllstoffwerke GmbH",
        "Rohstofflieferanten",
        2,
        Relationship.SUPPLIER,
        ["Preis", "Logistik"],
        "",
        "Kapazitätsengpass im Sommer; wünscht gleichmäßigere Abrufe über das Jahr.",
    ),
    (
        "Wendt Kartuschen & Verpackung GmbH",
        "Rohstofflieferanten",
        2,
        Relationship.SUPPLIER,
        ["Lieferfähigkeit", "Preis"],
        "",
        "Hohe Mindestmengen für bedruckte Kartuschen; stellt 2027 auf Recyclingkunststoff um.",
    ),
    (
        "BauRing Baustoffhandel Gruppe",
        "Fachhandel",
        5,
        Relationship.DIRECT_CUSTOMER,
        ["Preis", "Lieferfähigkeit", "Logistik", "Marke/Bekanntheit"],
        "Jahresgespräche mit Werbekostenzuschuss und Bonusstaffel; Regalfläche je Niederlassung "
        "knapp.",
        "Will 2027 weniger Lieferanten pro Warengruppe (Sortimentsbereinigung). Das "
        "Thekenpersonal wechselt oft und kennt die Vorteile von ProFix nicht; erwartet "
        "Verkaufsförderung und Thekenschulungen.",
    ),
    (
        "Fliesen-Fachhandel Maier KG",
        "Fachhandel",
        4,
        Relationship.DIRECT_CUSTOMER,
        ["Technische Beratung", "Sortimentsbreite", "Schulungen"],
        "Komplettsystem aus einer Hand: Abdichtung, Kleber, Fuge.",
        "Muss sich über Beratung und Systemgewährleistung vom Baustoffhandel abheben; wünscht "
        "gemeinsame Handwerkerabende und Unterstützung bei Reklamationen.",
    ),
    (
        "Fliesenleger-Betriebe Region Süd",
        "Handwerk",
        5,
        Relationship.INDIRECT_CUSTOMER,
        ["Verarbeitungszeit", "Produktqualität", "Technische Beratung", "Gewährleistung"],
        "Termindruck: Fugen und Silikon am selben Tag wie die Montage.",
        "Fachkräftemangel und volle Auftragsbücher. Reklamationen wegen schwacher "
        "Anfangshaftung auf kalten Untergründen (unter 10 °C). Wollen eine "
        "Systemgewährleistung, damit sie bei Schäden nicht allein haften.",
    ),
    (
        "Bodenleger-Betriebe",
        "Handwerk",
        3,
        Relationship.INDIRECT_CUSTOMER,
        ["Verarbeitungszeit", "Preis"],
        "",
        "Wünschen kleinere Gebinde (Schlauchbeutel 290 ml); sehen ProFix als austauschbar.",
    ),
    (
        "Fliesenleger-Innung Schwaben-Oberbayern",
        "Handwerk",
        3,
        Relationship.PARTNER,
        ["Schulungen", "Zertifizierungen/Normen"],
        "",
        "Sucht Referenten und Material für die überbetriebliche Ausbildung, will aber keine "
        "reine Werbeveranstaltung.",
    ),
    (
        "Wohnungsbaugesellschaften",
        "Endkunden",
        4,
        Relationship.INDIRECT_CUSTOMER,
        ["Gewährleistung", "Preis", "Emissionsarmut (EMICODE)"],
        "Sanierung im bewohnten Zustand: Bad nach spätestens 10 Arbeitstagen wieder nutzbar.",
        "Standardisierte Badsanierung mit emissionsarmen Produkten und 5 Jahren Gewährleistung; "
        "vergeben über Rahmenverträge und Ausschreibungen.",
    ),
    (
        "Bauherren Sanierung",
        "Endkunden",
        3,
        Relationship.INDIRECT_CUSTOMER,
        ["Produktqualität"],
        "Sauberes, geruchsarmes Arbeiten in der bewohnten Wohnung.",
        "Kennen kaum Klebermarken und vertrauen dem Handwerker; erwarten schnelle Fertigstellung.",
    ),
    (
        "Architekturbüro Hahn + Partner",
        "Planer",
        3,
        Relationship.NONE,
        ["Zertifizierungen/Normen", "Technische Beratung"],
        "",
        "Braucht ausschreibungsfähige Texte, Prüfzeugnisse und EMICODE-Nachweise; scheut die "
        "Haftung bei Produkten ohne Referenzobjekte.",
    ),
]

BuyingRole = Contact.BuyingRole
Attitude = Contact.Attitude
Level = Contact.Level
Relation = Contact.Relation

# Contacts, by Contact field name plus the actor. An empty name is a known role only.
CONTACTS = [
    {
        "actor": "PolyChem Dispersionen AG",
        "name": "Markus Lehmann",
        "role": "Key Account Manager Bauchemie",
        "email": "m.lehmann@polychem.example",
        "phone": "+49 621 555-2140",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.REGULAR,
        "relation_now": Relation.PROBLEM_SOLVER,
        "relation_goal": Relation.TRUSTED_ADVISOR,
        "last_contact": date(2026, 11, 3),
        "notes": "Hat uns im Engpass 2025 bevorzugt beliefert; möchte eine gemeinsame Fallstudie.",
    },
    {
        "actor": "PolyChem Dispersionen AG",
        "name": "Dr. Anja Weiß",
        "role": "Leiterin Anwendungslabor",
        "email": "a.weiss@polychem.example",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.NEUTRAL,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.CREDIBLE_SOURCE,
        "relation_goal": Relation.PROBLEM_SOLVER,
        "last_contact": date(2026, 6, 18),
        "notes": "Kann bei der Rezeptur für kalte Untergründe helfen.",
    },
    {
        "actor": "Südkalk Füllstoffwerke GmbH",
        "name": "Thomas Huber",
        "role": "Vertriebsinnendienst",
        "email": "t.huber@suedkalk.example",
        "phone": "+49 941 555-310",
        "buying_role": BuyingRole.OTHER,
        "attitude": Attitude.NEUTRAL,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.VENDOR,
        "relation_goal": Relation.VENDOR,
        "last_contact": date(2026, 9, 9),
    },
    {
        "actor": "BauRing Baustoffhandel Gruppe",
        "name": "Frank Schulte",
        "role": "Niederlassungsleiter München",
        "email": "frank.schulte@bauring.example",
        "phone": "+49 89 555-7710",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.REGULAR,
        "relation_now": Relation.PROBLEM_SOLVER,
        "relation_goal": Relation.TRUSTED_ADVISOR,
        "last_contact": date(2026, 11, 17),
        "notes": (
            "Unser Fürsprecher in der Gruppe; stellt uns beim Lieferantentag in der Zentrale vor."
        ),
    },
    {
        "actor": "BauRing Baustoffhandel Gruppe",
        "name": "Sabine Krüger",
        "role": "Verkäuferin Fliesentheke Augsburg",
        "email": "sabine.krueger@bauring.example",
        "phone": "+49 821 555-4402",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.REGULAR,
        "relation_now": Relation.CREDIBLE_SOURCE,
        "relation_goal": Relation.PROBLEM_SOLVER,
        "last_contact": date(2026, 11, 20),
        "notes": "Empfiehlt ProFix aktiv, wenn Handwerker nach einem Montagekleber fragen.",
    },
    {
        "actor": "BauRing Baustoffhandel Gruppe",
        "name": "Oliver Petersen",
        "role": "Einkaufsleiter Region Süd",
        "email": "oliver.petersen@bauring.example",
        "phone": "+49 89 555-7700",
        "buying_role": BuyingRole.GATEKEEPER,
        "attitude": Attitude.CRITIC,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.VENDOR,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "last_contact": date(2026, 10, 8),
        "notes": (
            "Verhandelt hart über Bonus und Werbekostenzuschuss; zweifelt an unserer Markenstärke."
        ),
    },
    {
        "actor": "BauRing Baustoffhandel Gruppe",
        "name": "",
        "role": "Category Manager Bauchemie (Zentrale Hannover)",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.UNKNOWN,
        "level": Level.NONE,
        "relation_now": Relation.NONE,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "notes": "Entscheidet über die Sortimentsbereinigung 2027.",
    },
    {
        "actor": "Fliesen-Fachhandel Maier KG",
        "name": "Georg Maier",
        "role": "Geschäftsführender Gesellschafter",
        "email": "g.maier@fliesen-maier.example",
        "phone": "+49 8141 555-20",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.REGULAR,
        "relation_now": Relation.TRUSTED_ADVISOR,
        "relation_goal": Relation.TRUSTED_ADVISOR,
        "last_contact": date(2026, 10, 29),
        "notes": "Quartalsgespräch; plant mit uns eine Handwerkerabend-Reihe 2027.",
    },
    {
        "actor": "Fliesen-Fachhandel Maier KG",
        "name": "Petra Albrecht",
        "role": "Außendienst Handwerkerbetreuung",
        "email": "p.albrecht@fliesen-maier.example",
        "phone": "+49 170 555-3318",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.NEUTRAL,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.VENDOR,
        "relation_goal": Relation.PROBLEM_SOLVER,
        "last_contact": date(2026, 9, 24),
        "notes": (
            "Kennt fast alle Fliesenleger im Landkreis; bisher eher für den Wettbewerb unterwegs."
        ),
    },
    {
        "actor": "Fliesenleger-Betriebe Region Süd",
        "name": "Andreas Berger",
        "role": "Inhaber, Berger Fliesen GmbH (Pilotbetrieb)",
        "email": "info@berger-fliesen.example",
        "phone": "+49 821 555-9021",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.REGULAR,
        "relation_now": Relation.PROBLEM_SOLVER,
        "relation_goal": Relation.TRUSTED_ADVISOR,
        "last_contact": date(2026, 11, 12),
        "notes": "Testet ProFix auf einer Referenzbaustelle der Wohnbau Isartal.",
    },
    {
        "actor": "Fliesenleger-Betriebe Region Süd",
        "name": "Michael Kaya",
        "role": "Meister, Fliesen Kaya",
        "email": "kaya@fliesen-kaya.example",
        "phone": "+49 89 555-6634",
        "buying_role": BuyingRole.USER,
        "attitude": Attitude.CRITIC,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.VENDOR,
        "relation_goal": Relation.PROBLEM_SOLVER,
        "last_contact": date(2026, 8, 14),
        "notes": "Reklamation im Februar: Fliesenspiegel auf kalter Außenwand abgerutscht.",
    },
    {
        "actor": "Bodenleger-Betriebe",
        "name": "Jürgen Wolf",
        "role": "Inhaber, Wolf Bodenbeläge",
        "email": "j.wolf@wolf-boden.example",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.NEUTRAL,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.VENDOR,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "last_contact": date(2026, 5, 6),
    },
    {
        "actor": "Fliesenleger-Innung Schwaben-Oberbayern",
        "name": "Lena Hofmann",
        "role": "Obermeisterin",
        "email": "hofmann@fliesen-innung.example",
        "phone": "+49 821 555-1200",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.SUPPORTER,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.CREDIBLE_SOURCE,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "last_contact": date(2026, 7, 2),
        "notes": "Offen für eine Praxisschulung im Ausbildungszentrum im März 2027.",
    },
    {
        "actor": "Fliesenleger-Innung Schwaben-Oberbayern",
        "name": "Ralf Seidel",
        "role": "Ausbildungsmeister",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.UNKNOWN,
        "level": Level.INDIRECT,
        "relation_now": Relation.NONE,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "last_contact": date(2026, 7, 2),
        "notes": "Über Frau Hofmann bekannt; prägt, mit welchen Produkten die Lehrlinge arbeiten.",
    },
    {
        "actor": "Architekturbüro Hahn + Partner",
        "name": "Claudia Hahn",
        "role": "Partnerin, Projektleitung Sanierung",
        "email": "c.hahn@hahn-partner.example",
        "phone": "+49 89 555-4480",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.NEUTRAL,
        "level": Level.OCCASIONAL,
        "relation_now": Relation.CREDIBLE_SOURCE,
        "relation_goal": Relation.TRUSTED_ADVISOR,
        "last_contact": date(2026, 10, 15),
        "notes": "Will Ausschreibungstexte und Prüfzeugnisse für ProFix.",
    },
    {
        "actor": "Wohnungsbaugesellschaften",
        "name": "Karin Vogt",
        "role": "Leiterin Technik, Wohnbau Isartal eG",
        "buying_role": BuyingRole.INFLUENCER,
        "attitude": Attitude.UNKNOWN,
        "level": Level.INDIRECT,
        "relation_now": Relation.NONE,
        "relation_goal": Relation.CREDIBLE_SOURCE,
        "notes": "Nur über Frau Hahn bekannt; legt die Materialstandards für Badsanierungen fest.",
    },
    {
        "actor": "Wohnungsbaugesellschaften",
        "name": "",
        "role": "Einkauf Rahmenverträge Instandhaltung",
        "buying_role": BuyingRole.DECISION_MAKER,
        "attitude": Attitude.UNKNOWN,
        "level": Level.NONE,
        "relation_now": Relation.NONE,
        "relation_goal": Relation.VENDOR,
    },
]

# Influences: (from, on, strength 1-3, description).
INFLUENCES = [
    (
        "PolyChem Dispersionen AG",
        OWN,
        3,
        "Preis und Zuteilung des SMP-Polymers bestimmen Herstellkosten und Lieferfähigkeit "
        "von ProFix.",
    ),
    (
        "Südkalk Füllstoffwerke GmbH",
        OWN,
        1,
        "Die Füllstoffqualität beeinflusst die Standfestigkeit des Klebers.",
    ),
    (
        OWN,
        "Fliesenleger-Betriebe Region Süd",
        2,
        "Anwendungstechnik und Baustellenberatung schaffen Vertrauen und senken Reklamationen.",
    ),
    (
        "BauRing Baustoffhandel Gruppe",
        "Fliesenleger-Betriebe Region Süd",
        3,
        "Listung und Thekenempfehlung entscheiden, welcher Kleber greifbar ist: Handwerker "
        "nehmen meist, was vorrätig ist.",
    ),
    (
        "Fliesenleger-Betriebe Region Süd",
        "BauRing Baustoffhandel Gruppe",
        2,
        "Die Nachfrage der Betriebe entscheidet, ob ProFix die Sortimentsbereinigung übersteht.",
    ),
    (
        "Fliesen-Fachhandel Maier KG",
        "Fliesenleger-Betriebe Region Süd",
        2,
        "Fachberatung und Baustellenlieferung binden die Betriebe; Maier empfiehlt Systeme aus "
        "einer Hand.",
    ),
    (
        "Fliesenleger-Betriebe Region Süd",
        "Bauherren Sanierung",
        3,
        "Der Handwerker wählt das Produkt; Bauherren folgen fast immer seiner Empfehlung.",
    ),
    (
        "Fliesenleger-Innung Schwaben-Oberbayern",
        "Fliesenleger-Betriebe Region Süd",
        2,
        "Meisterkurse und Schulungen prägen, mit welchen Produkten die Betriebe arbeiten.",
    ),
    (
        "Architekturbüro Hahn + Partner",
        "Wohnungsbaugesellschaften",
        2,
        "Berät bei Sanierungsstandards und schlägt Produktsysteme für die Rahmenverträge vor.",
    ),
    (
        "Wohnungsbaugesellschaften",
        "Fliesenleger-Betriebe Region Süd",
        2,
        "Rahmenverträge schreiben Materialien, Gewährleistung und Preise vor.",
    ),
    (
        "Architekturbüro Hahn + Partner",
        "Fliesenleger-Betriebe Region Süd",
        1,
        "Ausschreibungstexte mit Produktnennung „oder gleichwertig“ legen das System fest.",
    ),
]

CHAIN_ANSWERS = {
    Question.SCOPE: (
        "Montagekleber ProFix (SMP-Basis, Kartusche 310 ml und Schlauchbeutel 600 ml) im "
        "Fliesenhandwerk. ProFix ist unser wachstumsstärkstes Produkt, aber im Fliesenhandwerk "
        "haben wir in Süddeutschland erst rund 8 % Marktanteil. Ziel: bis Ende 2027 30 % mehr "
        "Umsatz mit ProFix im Fliesenhandwerk. Welcher Kleber verwendet wird, entscheidet der "
        "Fliesenleger auf der Baustelle, deshalb betrachten wir die Kette bis zum Bauherrn."
    ),
    Question.COACH: (
        "Zuerst BauRing (Niederlassungen Süd) und Fliesen-Fachhandel Maier: über sie laufen "
        "rund 80 % unseres ProFix-Umsatzes im Fliesenbereich. Mit ihnen gemeinsam betreuen wir "
        "40 ausgewählte Fliesenleger-Betriebe mit 3 bis 20 Mitarbeitenden, die viel für "
        "Wohnungsbaugesellschaften sanieren. Bodenleger und private Bauherren sprechen wir "
        "vorerst nicht aktiv an."
    ),
    Question.CHAIN: (
        "Rohstofflieferanten (PolyChem für das Polymer, Südkalk für Füllstoffe, Wendt für "
        "Kartuschen) → wir als Hersteller → Fachhandel (BauRing als großer Baustoffhändler, "
        "Maier als regionaler Fliesenspezialist) → Handwerk (rund 420 Fliesenleger- und 180 "
        "Bodenleger-Betriebe, dazu die Innung als Schulungspartner) → Endkunden "
        "(Wohnungsbaugesellschaften und private Bauherren). Planer wie Hahn + Partner "
        "entscheiden über ihre Ausschreibungen mit, welches System auf die Baustelle kommt."
    ),
    Question.KEY_ACTORS: (
        "BauRing: Konzern und Marktführer im Baustoffhandel, entscheidet zentral über "
        "Listungen; zählt Preis, Lieferfähigkeit und Logistik. Maier: mittelständischer "
        "Spezialist, gewinnt über Beratung und Systemlösungen. Fliesenleger-Betriebe: kleine "
        "Betriebe unter Termindruck; entscheidend sind Verarbeitungszeit, sichere Haftung und "
        "Gewährleistung. Wohnungsbaugesellschaften: wenige große Auftraggeber mit "
        "Rahmenverträgen; achten auf Gewährleistung, Emissionen und kurze Sperrzeiten. "
        "PolyChem: Weltmarktführer, von dem wir beim Polymer abhängen."
    ),
}

ACTOR_ANSWERS = {
    "BauRing Baustoffhandel Gruppe": {
        Question.KNOWN: (
            "Frank Schulte (Niederlassungsleiter München), Oliver Petersen (Einkauf Region Süd) "
            "und Sabine Krüger (Fliesentheke Augsburg). Den Category Manager Bauchemie in der "
            "Zentrale kennen wir nicht mit Namen."
        ),
        Question.DIRECT: (
            "Regelmäßig mit Herrn Schulte und Frau Krüger (monatlicher Besuch), gelegentlich "
            "mit Herrn Petersen bei den Jahresgesprächen."
        ),
        Question.NO_CONTACT: (
            "Category Management in der Zentrale Hannover. Herr Schulte stellt uns beim "
            "Lieferantentag im Januar vor; bis dahin bereiten wir die Abverkaufszahlen der "
            "Niederlassungen Süd als Argument auf."
        ),
    },
    "Fliesen-Fachhandel Maier KG": {
        Question.KNOWN: "Georg Maier (Geschäftsführer) und Petra Albrecht (Außendienst).",
        Question.DIRECT: (
            "Mit Herrn Maier regelmäßig (Quartalsgespräch, Telefon), mit Frau Albrecht bei "
            "gemeinsamen Handwerkerabenden."
        ),
        Question.NO_CONTACT: (
            "Die Thekenverkäufer der fünf übrigen Standorte. Maßnahme: Thekenschulung an allen "
            "Standorten im Frühjahr 2027."
        ),
    },
    "Fliesenleger-Betriebe Region Süd": {
        Question.KNOWN: (
            "Andreas Berger (Berger Fliesen, Pilotbetrieb) und Michael Kaya (Fliesen Kaya). "
            "Weitere Betriebe kennen wir nur aus den Kundenlisten der Händler."
        ),
        Question.DIRECT: (
            "Regelmäßig mit Herrn Berger (Praxistests, Referenzbaustelle), gelegentlich mit "
            "Herrn Kaya seit seiner Reklamation."
        ),
        Question.NO_CONTACT: (
            "Mit über 90 % der Betriebe. Maßnahme: Pilotprogramm mit 40 Betrieben über BauRing "
            "und Maier, Baustellenbesuche der Anwendungstechnik und Praxisschulung bei der Innung."
        ),
    },
    "Wohnungsbaugesellschaften": {
        Question.KNOWN: (
            "Karin Vogt (Leiterin Technik, Wohnbau Isartal), aber nur über Frau Hahn vom "
            "Architekturbüro. Den Einkauf für die Rahmenverträge kennen wir nicht."
        ),
        Question.DIRECT: (
            "Mit niemandem. Bisher läuft alles über das Architekturbüro und die Fliesenleger."
        ),
        Question.NO_CONTACT: (
            "Technik und Einkauf der Wohnungsunternehmen. Maßnahme: Frau Hahn um ein "
            "gemeinsames Gespräch mit Frau Vogt bitten und ein Nachweispaket (EMICODE, "
            "Prüfzeugnisse, Gewährleistung) für Wohnungsunternehmen vorbereiten."
        ),
    },
}


def _user(
    username: str, password: str, roles: tuple[str, ...] = (), **flags: bool
) -> AbstractBaseUser:
    user, created = get_user_model().objects.get_or_create(username=username, defaults=flags)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    # The roles come from the migration chain/0003_roles.
    user.groups.add(*Group.objects.filter(name__in=roles))
    return user


def _catalogs() -> None:
    for i, name in enumerate(ACTOR_KINDS):
        ActorKind.objects.get_or_create(name=name, defaults={"position": 10 * (i + 1)})
    for name in SUCCESS_FACTORS:
        SuccessFactor.objects.get_or_create(name=name)
    kinds = {kind.name: kind for kind in ActorKind.objects.filter(name__in=ACTOR_KINDS)}
    for name, kind, size, _position, _count, notes in ACTORS:
        Actor.objects.get_or_create(
            name=name,
            defaults={
                "kind": kinds[kind],
                "size": size,
                "is_own_company": name == OWN,
                "notes": notes,
            },
        )


def _stages(chain: Chain) -> dict[str, Stage]:
    """Rename the default stages and add the craft and planner stages between and after."""
    supplier, own, retail, user = chain.stages.all()  # the defaults chain_create makes
    for stage, name in zip(
        (supplier, own, retail, user),
        ("Rohstofflieferanten", "Hersteller", "Fachhandel", "Endkunden"),
        strict=True,
    ):
        stage.name = name
        stage.save(update_fields=["name"])
    # Retail buys from us, the craftsmen buy from retail, the end customers from them; the
    # planners stand beside the chain.
    craft = stage_add(chain=chain, name="Handwerk", role=StageRole.CUSTOMERS_CUSTOMER)
    planner = stage_add(chain=chain, name="Planer", role=StageRole.INFLUENCER)
    user.role = StageRole.DOWNSTREAM
    user.save(update_fields=["role"])
    stage_reorder(
        chain=chain, stage_pks=[s.pk for s in (supplier, own, retail, craft, user, planner)]
    )
    return {stage.name: stage for stage in chain.stages.all()}


def _members(chain: Chain, stages: dict[str, Stage]) -> dict[str, ChainLink]:
    actors = {actor.name: actor for actor in Actor.objects.filter(name__in=[m[0] for m in MEMBERS])}
    # The competitive position and count describe the actor in this chain's market.
    market = {row[0]: {"competitive_position": row[3], "count": row[4]} for row in ACTORS}
    factors = {f.name: f for f in SuccessFactor.objects.all()}
    links = {}
    for name, stage, importance, relationship, factor_names, factors_text, needs in MEMBERS:
        fields = {
            "importance": importance,
            "relationship": relationship,
            "success_factors_text": factors_text,
            "problems_needs": needs,
            **market[name],
        }
        link = ChainLink.objects.filter(chain=chain, actor=actors[name]).first()
        if link:  # chain_create already placed the own company
            ChainLink.objects.filter(pk=link.pk).update(stage=stages[stage], **fields)
        else:
            link = link_add(chain=chain, stage=stages[stage], actor=actors[name], **fields)
        link.success_factors.set([factors[f] for f in factor_names])
        links[name] = link
    return links


def _contacts(links: dict[str, ChainLink], owner: AbstractBaseUser) -> None:
    for row in CONTACTS:
        fields = {key: value for key, value in row.items() if key != "actor"}
        contact = Contact(link=links[row["actor"]], owner=owner, **fields)
        contact.full_clean()
        contact.save()


def _influences(chain: Chain, links: dict[str, ChainLink]) -> None:
    for source, target, strength, description in INFLUENCES:
        influence = Influence(
            chain=chain,
            source=links[source],
            target=links[target],
            strength=strength,
            description=description,
        )
        influence.full_clean()
        influence.save()


def _answers(chain: Chain, links: dict[str, ChainLink], user: AbstractBaseUser) -> None:
    for question, text in CHAIN_ANSWERS.items():
        answer_save(chain=chain, question=question, text=text, user=user, link=None)
    for actor, answers in ACTOR_ANSWERS.items():
        for question, text in answers.items():
            answer_save(chain=chain, question=question, text=text, user=user, link=links[actor])


@transaction.atomic
def demo_chain_create() -> bool:
    """Create the logins, catalogs and demo chain; False if the chain was there already."""
    # The demo user leads the sales team: sales and manager, to try everything.
    demo = _user("demo", DEMO_PASSWORD, roles=("sales", "manager"))
    _user("admin", ADMIN_PASSWORD, roles=("administrator",), is_staff=True, is_superuser=True)
    colleague = _user("kollege", DEMO_PASSWORD, roles=("sales",))
    # A manager of no team: reads and reviews every chain, changes none.
    _user("leitung", DEMO_PASSWORD, roles=("manager",))
    team, _created = Team.objects.get_or_create(name=TEAM)
    team.members.add(demo)
    other_team, _created = Team.objects.get_or_create(name=OTHER_TEAM)
    other_team.members.add(colleague)
    _catalogs()
    if Chain.objects.filter(team=team, scope_name=SCOPE).exists():
        return False

    chain = chain_create(
        team=team,
        owner=demo,
        scope_name=SCOPE,
        scope_kind=Chain.ScopeKind.PRODUCT,
        goal=Chain.Goal.GROWTH,
        coach_whom=(
            "Die Niederlassungen Süd von BauRing und den Fliesen-Fachhandel Maier, und mit "
            "ihnen 40 Fliesenleger-Betriebe, die viel für Wohnungsbaugesellschaften sanieren."
        ),
        status=Chain.Status.DRAFT,
    )
    links = _members(chain, _stages(chain))
    _contacts(links, owner=demo)
    _influences(chain, links)
    _answers(chain, links, user=demo)
    return True


class Command(BaseCommand):
    help = "Create a complete German demo chain (adhesives maker) with logins demo and admin."

    def handle(self, *args: object, **options: object) -> None:
        created = demo_chain_create()
        # Four years of customer values up to last month, linked to the demo chain's actors.
        last_month = pd.Timestamp.today().normalize().replace(day=1) - pd.offsets.MonthBegin(1)
        customers = demo_customers_create(as_of=last_month)
        status = "Demo data created." if created else "Demo chain exists already, left as it is."
        if customers:
            status += f" {customers} demo customers analysed."
        # The same logins as the README's list.
        self.stdout.write(
            f"{status} Log in at {LOGIN_URL} as demo / {DEMO_PASSWORD} (leads the sales team); "
            f"leitung / {DEMO_PASSWORD} (a manager of no team); "
            f"kollege / {DEMO_PASSWORD} (sales in another team, sees no chain); "
            f"admin / {ADMIN_PASSWORD} (administrator)."
        )
