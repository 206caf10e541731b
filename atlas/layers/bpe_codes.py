"""INSEE BPE (Base permanente des équipements) code lists: the seven domains and the TYPEQU labels.

The domain is the first letter of TYPEQU (INSEE's ``DOM`` variable). The labels are INSEE's
(BPE nomenclature of the 2020–2021 editions); the F1xx–F3xx labels are those of INSEE's 2020
variable dictionary (``../shared/data/real/bpe-dictionnaire-extrait``), written here in sentence
case. The list holds the common codes of every domain, not all ~200: a well-formed code that is
not listed is kept with an empty (null) label (INSEE adds codes at each edition; refusing them would reject
real equipment), whereas a malformed code is rejected by the reader.
"""

from __future__ import annotations

import re

TYPEQU_PATTERN = re.compile(r"^[A-G][0-9]{3}$")

DOMAINS: dict[str, str] = {
    "A": "Services aux particuliers",
    "B": "Commerces",
    "C": "Enseignement",
    "D": "Santé et action sociale",
    "E": "Transports et déplacements",
    "F": "Sports, loisirs et culture",
    "G": "Tourisme",
}

TYPEQU_LABELS: dict[str, str] = {
    # A — services aux particuliers
    "A101": "Police",
    "A104": "Gendarmerie",
    "A105": "Cour d'appel",
    "A106": "Tribunal judiciaire",
    "A108": "Conseil de prud'hommes",
    "A109": "Tribunal de commerce",
    "A115": "Maison de justice et du droit",
    "A119": "Antenne de justice",
    "A121": "Direction générale des finances publiques (DGFIP)",
    "A203": "Banque, caisse d'épargne",
    "A205": "Pompes funèbres",
    "A206": "Bureau de poste",
    "A207": "Relais poste",
    "A208": "Agence postale",
    "A301": "Réparation automobile et de matériel agricole",
    "A302": "Contrôle technique automobile",
    "A303": "Location d'automobiles et d'utilitaires légers",
    "A304": "École de conduite",
    "A401": "Maçon",
    "A402": "Plâtrier, peintre",
    "A403": "Menuisier, charpentier, serrurier",
    "A404": "Plombier, couvreur, chauffagiste",
    "A405": "Électricien",
    "A406": "Entreprise générale du bâtiment",
    "A501": "Coiffure",
    "A502": "Vétérinaire",
    "A503": "Agence de travail temporaire",
    "A504": "Restaurant, restauration rapide",
    "A505": "Agence immobilière",
    "A506": "Pressing, laverie automatique",
    "A507": "Institut de beauté, onglerie",
    # B — commerces
    "B101": "Hypermarché",
    "B102": "Supermarché",
    "B103": "Grande surface de bricolage",
    "B201": "Supérette",
    "B202": "Épicerie",
    "B203": "Boulangerie",
    "B204": "Boucherie, charcuterie",
    "B205": "Produits surgelés",
    "B206": "Poissonnerie",
    "B301": "Librairie, papeterie, journaux",
    "B302": "Magasin de vêtements",
    "B303": "Magasin d'équipements du foyer",
    "B304": "Magasin de chaussures",
    "B305": "Magasin d'électroménager et de matériel audio-vidéo",
    "B306": "Magasin de meubles",
    "B307": "Magasin d'articles de sports et de loisirs",
    "B308": "Magasin de revêtements murs et sols",
    "B309": "Droguerie, quincaillerie, bricolage",
    "B310": "Parfumerie, cosmétique",
    "B311": "Horlogerie, bijouterie",
    "B312": "Fleuriste, jardinerie, animalerie",
    "B313": "Magasin d'optique",
    "B315": "Magasin de matériel médical et orthopédique",
    "B316": "Station-service",
    # C — enseignement
    "C101": "École maternelle",
    "C102": "École maternelle de regroupement pédagogique intercommunal (RPI) dispersé",
    "C104": "École élémentaire",
    "C105": "École élémentaire de regroupement pédagogique intercommunal (RPI) dispersé",
    "C201": "Collège",
    "C301": "Lycée d'enseignement général et/ou technologique",
    "C302": "Lycée d'enseignement professionnel",
    "C303": "Lycée d'enseignement technique et/ou professionnel agricole",
    "C304": "Section d'enseignement général et technologique (SGT)",
    "C305": "Section d'enseignement professionnel (SEP)",
    "C401": "Section de technicien supérieur (STS), classe préparatoire aux grandes écoles (CPGE)",
    "C402": "Formation santé",
    "C403": "Formation commerce",
    "C409": "Autre formation post-baccalauréat non universitaire",
    "C501": "Unité de formation et de recherche (UFR)",
    "C502": "Institut universitaire",
    "C503": "École d'ingénieurs",
    "C509": "Autre enseignement supérieur",
    "C601": "Centre de formation d'apprentis (hors agriculture)",
    "C602": "GRETA",
    "C609": "Autre formation continue",
    "C701": "Résidence universitaire",
    "C702": "Restaurant universitaire",
    # D — santé et action sociale
    "D101": "Établissement de santé de court séjour",
    "D102": "Établissement de santé de moyen séjour",
    "D103": "Établissement de santé de long séjour",
    "D104": "Établissement psychiatrique",
    "D105": "Centre de lutte contre le cancer",
    "D106": "Urgences",
    "D107": "Maternité",
    "D108": "Centre de santé",
    "D109": "Structure psychiatrique en ambulatoire",
    "D111": "Dialyse",
    "D112": "Hospitalisation à domicile",
    "D113": "Maison de santé pluridisciplinaire",
    "D201": "Médecin généraliste",
    "D221": "Chirurgien-dentiste",
    "D231": "Sage-femme",
    "D232": "Infirmier",
    "D233": "Masseur-kinésithérapeute",
    "D235": "Orthophoniste",
    "D236": "Orthoptiste",
    "D237": "Pédicure-podologue",
    "D238": "Audioprothésiste",
    "D239": "Ergothérapeute",
    "D240": "Psychomotricien",
    "D242": "Diététicien",
    "D243": "Psychologue",
    "D301": "Pharmacie",
    "D302": "Laboratoire d'analyses et de biologie médicales",
    "D303": "Ambulance",
    "D304": "Transfusion sanguine",
    "D305": "Établissement thermal",
    "D401": "Personnes âgées : hébergement",
    "D402": "Personnes âgées : soins à domicile",
    "D403": "Personnes âgées : services d'aide",
    "D404": "Personnes âgées : foyers restaurants",
    "D405": "Personnes âgées : services de repas à domicile",
    # E — transports et déplacements
    "E101": "Taxi, VTC",
    "E102": "Aéroport",
    "E107": "Gare de voyageurs d'intérêt national",
    "E108": "Gare de voyageurs d'intérêt régional",
    "E109": "Gare de voyageurs d'intérêt local",
    # F — sports, loisirs et culture (INSEE BPE 2020 dictionary)
    "F101": "Bassin de natation",
    "F102": "Boulodrome",
    "F103": "Tennis",
    "F104": "Équipement de cyclisme",
    "F105": "Domaine skiable",
    "F106": "Centre équestre",
    "F107": "Athlétisme",
    "F108": "Terrain de golf",
    "F109": "Parcours sportif/santé",
    "F110": "Sports de glace",
    "F111": "Plateaux et terrains de jeux extérieurs",
    "F112": "Salles spécialisées",
    "F113": "Terrains de grands jeux",
    "F114": "Salles de combat",
    "F116": "Salles non spécialisées",
    "F117": "Roller-skate-vélo bicross ou freestyle",
    "F118": "Sports nautiques",
    "F119": "Bowling",
    "F120": "Salles de remise en forme",
    "F121": "Salles multisports (gymnases)",
    "F201": "Baignade aménagée",
    "F202": "Port de plaisance - mouillage",
    "F203": "Boucle de randonnée",
    "F303": "Cinéma",
    "F305": "Conservatoire",
    "F306": "Théâtre-arts de rue-pôle cirque",
    "F307": "Bibliothèque",
    "F308": "Musique et danse",
    "F309": "Lieux d'exposition et patrimoine",
    "F310": "Jardins remarquables",
    # G — tourisme
    "G101": "Agence de voyage",
    "G102": "Hôtel",
    "G103": "Camping",
    "G104": "Information touristique",
}


def is_typequ(code: str) -> bool:
    """True when ``code`` has the TYPEQU form: a domain letter A–G and three digits."""
    return bool(TYPEQU_PATTERN.match(code))


def domain_of(code: str) -> str:
    """The domain letter of a well-formed TYPEQU code."""
    return code[0]


def label_of(code: str) -> str:
    """INSEE's label of a TYPEQU code; empty for a code not in the list (kept, not rejected)."""
    return TYPEQU_LABELS.get(code, "")
