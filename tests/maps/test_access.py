"""Every generated map's accessibility basics (RGAA): the text alternative linked first in the
page, the map and its legend named regions, the layer control collapsed and named in the map's
language. (axe-core and the keyboard in Chromium: tests/api/test_accessibility_browser.py.)"""

from __future__ import annotations

import re

import pytest

from atlas.maps.labels import Lang, text
from atlas.policy.tiers import Tier

BODY = re.compile(r"<body>\s*(<[^>]+>)\s*<a href=\"([^\"]+)\">([^<]+)</a>", re.S)
LAYER_CONTROL = re.compile(r"L\.control\.layers\([^)]*\"collapsed\": true", re.S)


@pytest.mark.parametrize("tier", list(Tier))
@pytest.mark.parametrize("lang", list(Lang))
def test_the_map_links_its_table_first_and_names_itself(built, tier: Tier, lang: Lang) -> None:
    _, page = built[tier, lang]
    first = BODY.search(page.html)
    assert first is not None, "the alternative is not the body's first element"
    box, href, label = first.groups()
    assert 'class="atlas-alternative"' in box
    assert href == ("/sites" if lang is Lang.FR else "/sites?lang=en")
    assert label == text("as_table", lang)
    legend = f'class="atlas-legend" role="region" aria-label="{text("legend", lang)}" tabindex="0"'
    assert legend in page.html
    assert LAYER_CONTROL.search(page.html)  # open, it would cover the map
    assert f'"layers": "{text("layers", lang)}"' in page.html  # the control's button, named
    assert f'"map": "{text("title", lang)}"' in page.html  # the map's region
    assert f'"textCancel": "{text("search_cancel", lang)}"' in page.html  # not English only
