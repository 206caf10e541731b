"""What the published inventory may not say: personal data out, non-diffusible businesses out.

Art. L.318-8-2 of the code de l'urbanisme makes the EPCI draw up the inventory of its zones
d'activité économique — for each zone the land units with their area and owner, the occupants,
the vacancy rate — consult the owners and occupants, then transmit it to the authorities in
charge of the SCoT, the PLU and the PLH. The staff's copy keeps everything (``internal`` mode).
Putting the inventory online is another act, with its own rules, applied here (``publication``):

- **Personal data** (RGPD art. 4(1): any information relating to an identified or identifiable
  natural person). A public body may put documents holding personal data online only once
  they are processed so that the persons cannot be identified, unless a law provides
  otherwise (code des relations entre le public et l'administration, art. L.312-1-2); no text
  provides it for this inventory, so the published files are anonymised and minimised (RGPD
  art. 5(1)(c)). Data about a legal person is not personal data (RGPD recital 14).
- **SIRENE diffusion status**. An establishment whose person objected to the diffusion of
  their SIRENE record (``statutDiffusionEtablissement`` 'P', formerly 'N') may not be
  published by a re-user of the register (art. A123-96 code de commerce; INSEE's diffusion
  rules).

What each rule does, field by field (``ANONYMISED_FIELDS`` lists them for the tests):

- every field the CNIG classes classify PERSONAL is blanked — none is required by the CNIG
  TableSchemas (a test checks it), so the files stay valid:
  - ``site_moa_comm``, the commercialisation contact: always blanked (producers write a sales
    officer's name there as often as a company's; the organisations in charge remain in
    ``site_moa_nom`` and ``site_moa_amngt``);
  - ``terr_acquereur``, the buyer: kept only when the name shows a legal person (a legal form
    such as SAS, SARL, SCI, or a public body) and the plot's land control is not
    ``personne physique``; blanked otherwise, so an unclear name is treated as a person's.
- a plot sold to a natural person (or to a buyer not shown to be a legal person): the deal's
  amount, date and price per m² are blanked too, since with the cadastral reference
  (``terr_refcad``) they identify the person's transaction (RGPD art. 4(1), indirect
  identification). The land-control category (``terr_maitrise_fonc``) is kept: it names no one.
- ``ETABLISSEMENT``: rows whose SIRENE status is not 'O' (absent included) are removed, not
  reduced: the CNIG class requires the legal name, the usual name, the plot and the position,
  which are exactly what SIRENE withholds for these units, and a blanked required field would
  not validate. The contacts ``etab_contact_mail`` and ``etab_contact_tel`` are blanked on every
  row: they are not SIRENE data, L.318-8-2 does not ask for them (the name and SIRET identify
  the occupant), and a work address or line often names an employee (RGPD art. 5(1)(c)).
- site aggregates (``site_nb_etab``, ``site_nb_emploi``) are kept: counts name no one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from atlas.layers.cnig import ETABLISSEMENT, SITE_ECO, TERRAIN_ECO
from atlas.layers.cnig_read import fold

DIFFUSIBLE = "O"  # SIRENE statutDiffusionEtablissement: 'O' diffusible
STATUS_FIELD = "statutDiffusionEtablissement"
SALE_FIELDS = ("terr_acquereur", "terr_cession_date", "terr_vente_montant", "terr_m2_prix")
CONTACT_FIELDS = ("etab_contact_mail", "etab_contact_tel")
ANONYMISED_FIELDS: dict[str, tuple[str, ...]] = {
    SITE_ECO.name: ("site_moa_comm",),
    TERRAIN_ECO.name: SALE_FIELDS,
    ETABLISSEMENT.name: CONTACT_FIELDS,
}

# Legal forms (INSEE catégories juridiques) written in capitals, as in a raison sociale.
_LEGAL_FORMS = re.compile(
    r"\b(SA|SAS|SASU|SARL|EURL|SNC|SCS|SCA|SCI|SCP|SCM|SCOP|SCIC|SEM|SEML|SAEM|SPL|SPLA|GIE|GIP|"
    r"SELARL|SELAS|SELAFA|SELCA|EPIC|EPA|EPF|EPFL|OPH|ESH|SACICAP)\b"
)
# Public bodies and other legal persons named by words (matched on folded text).
_LEGAL_WORDS = re.compile(
    r"\b(societe|association|fondation|commune|departement|region|communaute|metropole|"
    r"syndicat|etablissement public|office public|chambre de|etat|groupement|mutuelle|"
    r"cooperative|banque|caisse)\b"
)
# Signs of a natural person: an individual business, a civility, an estate or joint owners.
_PERSON_MARKERS = re.compile(
    r"\b(ei|eirl|entrepreneur individuel|entreprise individuelle|m|mme|mlle|monsieur|madame|"
    r"succession|indivision|consorts|epoux)\b"
)


def is_legal_person(name: object, land_control: object = None) -> bool:
    """True when ``name`` shows a legal person (legal form, public body) and nothing a person's."""
    if name is None or pd.isna(name) or not str(name).strip():
        return False
    if land_control is not None and not pd.isna(land_control):
        if fold(str(land_control)) == "personne physique":
            return False
    text = str(name)
    folded = fold(text).replace("'", " ").replace(".", " ")
    if _PERSON_MARKERS.search(folded):
        return False
    return bool(_LEGAL_FORMS.search(text) or _LEGAL_WORDS.search(folded))


@dataclass
class Anonymisation:
    """What publication changed, as counts (the report never names anyone)."""

    counts: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        """One line per rule that changed something."""
        return [f"{what}: {count}" for what, count in sorted(self.counts.items()) if count]


def publish(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], Anonymisation]:
    """The frames (keyed by CNIG class name) as the law allows them online, and what changed."""
    done = Anonymisation()
    out = dict(frames)
    out[SITE_ECO.name] = _sites(frames[SITE_ECO.name], done)
    out[TERRAIN_ECO.name] = _plots(frames[TERRAIN_ECO.name], done)
    out[ETABLISSEMENT.name] = _establishments(frames[ETABLISSEMENT.name], done)
    return out, done


def _blank(frame: pd.DataFrame, mask: pd.Series, columns: tuple[str, ...]) -> None:
    for column in columns:
        if column in frame:
            frame[column] = frame[column].astype(object).where(~mask, None)


def _present(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(False, index=frame.index)
    values = frame[column].astype(object)
    return values.notna() & (values.astype(str).str.strip() != "")


def _sites(frame: pd.DataFrame, done: Anonymisation) -> pd.DataFrame:
    frame = frame.copy()
    present = _present(frame, "site_moa_comm")
    done.counts["site_moa_comm blanked (commercialisation contact)"] += int(present.sum())
    _blank(frame, pd.Series(True, index=frame.index), ("site_moa_comm",))
    return frame


def _plots(frame: pd.DataFrame, done: Anonymisation) -> pd.DataFrame:
    frame = frame.copy()
    if frame.empty:
        return frame
    buyer = _present(frame, "terr_acquereur")
    control = frame.get("terr_maitrise_fonc", pd.Series(None, index=frame.index))
    legal = pd.Series(
        [is_legal_person(n, c) for n, c in zip(frame["terr_acquereur"], control, strict=True)],
        index=frame.index,
    )
    person_control = (
        control.astype(object)
        .map(lambda v: isinstance(v, str) and fold(v) == "personne physique")
        .astype(bool)
    )
    # A sale is a person's when its buyer is not shown to be a legal person, or when the land
    # control says a natural person holds the plot (a sale without a buyer's name included).
    personal_sale = (buyer & ~legal) | person_control
    done.counts["terr_acquereur kept (legal person)"] += int((buyer & legal).sum())
    done.counts["terr_acquereur blanked (natural person or not shown to be a legal person)"] += int(
        (buyer & ~legal).sum()
    )
    done.counts["plots whose sale fields were blanked (a person's sale)"] += int(
        (personal_sale & frame[list(SALE_FIELDS)].notna().any(axis=1)).sum()
    )
    _blank(frame, personal_sale, SALE_FIELDS)
    return frame


def _establishments(frame: pd.DataFrame, done: Anonymisation) -> pd.DataFrame:
    status = frame.get(STATUS_FIELD, pd.Series(None, index=frame.index, dtype=object))
    diffusible = status.astype(object).map(lambda v: isinstance(v, str) and v == DIFFUSIBLE)
    diffusible = diffusible.astype(bool)
    done.counts["establishments removed (SIRENE status not 'O')"] += int((~diffusible).sum())
    frame = frame.loc[diffusible].copy()
    contacts = _present(frame, CONTACT_FIELDS[0]) | _present(frame, CONTACT_FIELDS[1])
    done.counts["establishments whose contacts were blanked"] += int(contacts.sum())
    _blank(frame, pd.Series(True, index=frame.index), CONTACT_FIELDS)
    return frame
