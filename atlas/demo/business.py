"""Plot occupation, land sales and the establishments of the parks (CNIG and SIRENE values).

Every value comes from the CNIG Sites économiques code lists (MCD 2024-10-18) or INSEE's
nomenclatures (NAF rév. 2, tranches d'effectif salarié, catégories juridiques). Company names
are invented, built from neutral words: no real firm, no natural person.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from atlas.demo.formats import luhn_complete
from atlas.demo.parks import SITES, Plot
from atlas.layers import activity_sites

# States counted as vacancy (site_taux_vacance): the reader's definition (art. L.318-8-2 CU),
# so that the declared rates agree with what the atlas recomputes, except the stale ones.
VACANT_STATES = tuple(sorted(activity_sites.VACANT_STATES))

_PRICE_PER_M2 = {  # €/m² of serviced land in Grand Paris Sud (order of magnitude)
    "entrepôts, logistique": (65, 110),
    "industrielle": (80, 140),
    "aéroportuaire, aéronautique": (80, 130),
    "commerciale": (180, 320),
    "tertiaire": (200, 350),
    "artisanale": (90, 160),
    "mixte": (90, 170),
}

# NAF rév. 2 sub-classes by vocation (code, INSEE label).
NAF: dict[str, tuple[tuple[str, str], ...]] = {
    "entrepôts, logistique": (
        ("5210B", "Entreposage et stockage non frigorifique"),
        ("4941A", "Transports routiers de fret interurbains"),
        ("5229A", "Messagerie, fret express"),
        ("4690Z", "Commerce de gros (commerce interentreprises) non spécialisé"),
    ),
    "industrielle": (
        ("2562B", "Mécanique industrielle"),
        ("2511Z", "Fabrication de structures métalliques et de parties de structures"),
        ("2229A", "Fabrication de pièces techniques à base de matières plastiques"),
        ("1071A", "Fabrication industrielle de pain et de pâtisserie fraîche"),
        ("2120Z", "Fabrication de préparations pharmaceutiques"),
    ),
    "aéroportuaire, aéronautique": (
        ("3030Z", "Construction aéronautique et spatiale"),
        ("3316Z", "Réparation et maintenance d'aéronefs et d'engins spatiaux"),
        ("7112B", "Ingénierie, études techniques"),
    ),
    "commerciale": (
        ("4711F", "Hypermarchés"),
        ("4771Z", "Commerce de détail d'habillement en magasin spécialisé"),
        ("4759A", "Commerce de détail de meubles"),
        ("4752B", "Commerce de détail de quincaillerie, peintures et verres en grandes surfaces"),
        ("5610A", "Restauration traditionnelle"),
    ),
    "tertiaire": (
        ("7211Z", "Recherche-développement en biotechnologie"),
        ("6201Z", "Programmation informatique"),
        ("6202A", "Conseil en systèmes et logiciels informatiques"),
        ("7112B", "Ingénierie, études techniques"),
    ),
    "artisanale": (
        ("4322A", "Travaux d'installation d'eau et de gaz en tous locaux"),
        ("4332A", "Travaux de menuiserie bois et PVC"),
        ("4520A", "Entretien et réparation de véhicules automobiles légers"),
        ("4399C", "Travaux de maçonnerie générale et gros œuvre de bâtiment"),
        ("4321A", "Travaux d'installation électrique dans tous locaux"),
    ),
}
NAF["mixte"] = NAF["industrielle"][:3] + NAF["artisanale"][:3] + NAF["entrepôts, logistique"][:2]

# INSEE tranches d'effectif salarié (code, label, midpoint used for site_nb_emploi).
HEADCOUNT: tuple[tuple[str, str, int], ...] = (
    ("01", "1 ou 2 salariés", 2),
    ("02", "3 à 5 salariés", 4),
    ("03", "6 à 9 salariés", 8),
    ("11", "10 à 19 salariés", 15),
    ("12", "20 à 49 salariés", 35),
    ("21", "50 à 99 salariés", 75),
    ("22", "100 à 199 salariés", 150),
    ("31", "200 à 249 salariés", 225),
    ("32", "250 à 499 salariés", 375),
    ("41", "500 à 999 salariés", 750),
)
_HEADCOUNT_WEIGHTS = np.array([14, 16, 15, 16, 16, 10, 6, 3, 3, 1], dtype=float)

# INSEE catégories juridiques (niveau III): code, short form.
LEGAL_FORMS = (("5710", "SAS"), ("5499", "SARL"), ("5599", "SA"), ("5720", "SASU"))

_NAME_HEAD = (
    "Sénart", "Essonne", "Seine", "Francilienne", "Nova", "Techno", "Euro", "Alpha", "Orion",
    "Delta", "Vega", "Arcade", "Helios", "Atlas", "Boréal", "Cèdre", "Azur", "Quartz", "Sirius",
    "Lumen", "Opale", "Cristal", "Zénith", "Horizon",
)  # fmt: skip
_NAME_TAIL = {
    "entrepôts, logistique": ("Logistique", "Transports", "Distribution", "Entreposage", "Fret"),
    "industrielle": ("Mécanique", "Précision", "Plasturgie", "Emballages", "Industries", "Métal"),
    "aéroportuaire, aéronautique": ("Aéro Composants", "Aéro Maintenance", "Propulsion", "Avionique"),
    "commerciale": ("Distribution", "Maison", "Mode", "Bricolage", "Restauration", "Équipement"),
    "tertiaire": ("Biotech", "Pharma", "Conseil", "Ingénierie", "Informatique", "Génomique"),
    "artisanale": ("Menuiserie", "Carrosserie", "Électricité", "Plomberie", "Bâtiment", "Couverture"),
}  # fmt: skip
_NAME_TAIL["mixte"] = _NAME_TAIL["industrielle"] + _NAME_TAIL["artisanale"]
STREETS = (
    "rue des Artisans", "avenue de l'Industrie", "rue de la Mare", "allée des Érables",
    "rue Gustave Eiffel", "avenue Louis Blériot", "rue Denis Papin", "rue Marcel Dassault",
    "boulevard de l'Europe", "rue des Frères Lumière", "rue Jean Monnet", "rue du Moulin",
    "avenue des Tilleuls", "rue de l'Innovation", "allée du Bois", "rue Ampère",
)  # fmt: skip


def assign_states(plots: list[Plot], rng) -> None:
    """Occupation and market states per plot, realising each park's target vacancy exactly."""
    for number, spec in enumerate(SITES):
        members = [p for p in plots if p.site == number]
        count = len(members)
        vacant = int(round(spec.vacancy * count))
        order = rng.permutation(count)
        for rank, index in enumerate(order):
            plot = members[index]
            if rank < vacant:
                state = "friche" if rng.uniform() < 0.25 else "vacant"
            elif spec.state == "création":
                state = "inoccupé" if rng.uniform() < 0.6 else "occupé"
            else:
                draw = rng.uniform()
                state = (
                    "inoccupé"
                    if draw < 0.08
                    else "occupation transitoire"
                    if draw < 0.12
                    else "occupé"
                )
            plot.attributes["terr_etat_occup"] = state
            _market(plot, state, spec.vocation, spec.state, spec.created, rng)


def _market(plot: Plot, state: str, vocation: str, site_state: str, created: int, rng) -> None:
    """Land control, development and sale fields consistent with the occupation state."""
    low, high = _PRICE_PER_M2[vocation]
    price = float(np.round(rng.uniform(low, high), 2))
    area = plot.geometry.area
    attrs = plot.attributes
    attrs["terr_stade_amngt"] = "viabilisé et aménagé"
    attrs["terr_usage"] = (
        "dépôt, stockage" if vocation == "entrepôts, logistique" else "bâti productif"
    )
    if state in ("occupé", "occupation transitoire") or (state == "vacant" and rng.uniform() < 0.4):
        attrs["terr_stade_comm"] = "vendu, commercialisation achevée"
        attrs["terr_maitrise_fonc"] = str(
            rng.choice(
                [
                    "établissement industriel et commercial",
                    "investisseur professionnel",
                    "établissement industriel et commercial",
                ]
            )
        )
        sold = dt.date(max(created, 1985), 1, 1) + dt.timedelta(days=int(rng.integers(0, 365 * 8)))
        attrs["terr_acquereur"] = company_name(vocation, rng)[0]
        attrs["terr_cession_date"] = min(sold, dt.date(2024, 3, 31)).isoformat()
        attrs["terr_m2_prix"] = price
        attrs["terr_vente_montant"] = int(round(price * area, -3))
    elif state == "vacant":
        attrs["terr_stade_comm"] = "en vente"
        attrs["terr_maitrise_fonc"] = "investisseur professionnel"
        attrs["terr_m2_prix"] = price
    elif state == "friche":
        attrs["terr_stade_comm"] = str(
            rng.choice(["en vente avec contraintes", "non commercialisé"])
        )
        attrs["terr_maitrise_fonc"] = str(rng.choice(["établissement public foncier", "commune"]))
        attrs["terr_url_cartofriches"] = (
            f"https://cartofriches.cerema.fr/cartofriches/?site={int(rng.integers(10**6, 10**7))}"
        )
    else:  # inoccupé: land the agglomeration or its developer offers
        attrs["terr_stade_comm"] = str(
            rng.choice(
                [
                    "en vente",
                    "en vente",
                    "réservé par option de réservation",
                    "réservé par une délibération de l'EPCI",
                ]
            )
        )
        attrs["terr_maitrise_fonc"] = str(
            rng.choice(["structure intercommunale", "aménageur", "SEM ou SPLA"])
        )
        attrs["terr_stade_amngt"] = (
            str(rng.choice(["viabilisation en cours", "non aménagé, non viabilisé"]))
            if site_state == "création"
            else "viabilisé non aménagé"
        )
        attrs["terr_usage"] = "espace agricole" if site_state == "création" else "espace vert"
        attrs["terr_cle_en_main"] = "oui" if rng.uniform() < 0.3 else "non"
        attrs["terr_m2_prix"] = price
    attrs.setdefault("terr_cle_en_main", "non")


def company_name(vocation: str, rng) -> tuple[str, str, str]:
    """(raison sociale, usual name, legal form code) of an invented company."""
    head = str(rng.choice(_NAME_HEAD))
    tail = str(rng.choice(_NAME_TAIL[vocation]))
    code, form = LEGAL_FORMS[int(rng.choice(len(LEGAL_FORMS), p=[0.5, 0.3, 0.1, 0.1]))]
    name = f"{head} {tail}"
    return f"{name.upper()} {form}", name, code


def siren_siret(rng, used: set[str]) -> tuple[str, str]:
    """A fresh SIREN and the SIRET of one of its establishments, both with their Luhn key."""
    while True:
        siren = luhn_complete(str(int(rng.integers(3 * 10**7, 9 * 10**7))))
        if siren not in used:
            used.add(siren)
            break
    nic = f"{int(rng.integers(1, 60)):04d}"
    return siren, luhn_complete(siren + nic)


def headcount(rng, vocation: str) -> tuple[str, str, int]:
    """An INSEE size band, larger for logistics and aeronautics."""
    weights = _HEADCOUNT_WEIGHTS.copy()
    if vocation in ("entrepôts, logistique", "aéroportuaire, aéronautique"):
        weights[5:] *= 3
    index = int(rng.choice(len(HEADCOUNT), p=weights / weights.sum()))
    return HEADCOUNT[index]
