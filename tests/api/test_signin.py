"""Sign-in in the browser over the served demo, on both stores: a key or OpenID Connect into a
session cookie, the tier of every page and item from it, CSRF and Origin checks, expiry,
revocation, sign-out, the audit log and redirects."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from atlas.api.app import create_app
from atlas.policy.tiers import Tier
from atlas.settings import Settings
from tests.auth.fixtures import BACKENDS, drop_keys, key_settings
from tests.auth.oidc_provider import Provider, serve
from tests.auth.test_oidc_signin import auth_settings
from tests.policy.test_leak_matrix import _secrets, check_response

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ORIGIN = {"Origin": "http://testserver"}
PLOTS = "/collections/activity-plots/items"
B2B_FIELD = "terr_m2_prix"  # the asking price: b2b and internal, never public


def key_of(served, tier: Tier) -> str:
    """The demo's API key of ``tier``."""
    return served.headers[tier]["Authorization"].removeprefix("Bearer ")


def browser(served) -> TestClient:
    """A new browser (its own cookie jar) on the module's running app."""
    return TestClient(served.client.app)


def csrf_of(page_html: str, action: str = "/signout") -> str:
    """The CSRF token of the page's form posting to ``action`` (the header's sign-out form, or
    the sign-in forms)."""
    form = rf'action="[^"]*{re.escape(action)}(?:\?[^"]*)?"[^>]*>(?:(?!</form>).)*?'
    match = re.search(form + r'name="csrf" value="([^"]+)"', page_html, re.DOTALL)
    assert match, f"no form posting to {action} with a CSRF field in the page"
    return match.group(1)


def signin_csrf(page_html: str) -> str:
    """The double-submit token of the sign-in form."""
    return csrf_of(page_html, "/signin")


def sign_in(client: TestClient, key: str, next_url: str = "/", **headers: str):
    """Load the form and post the key, as a browser does; the answer, redirect not followed."""
    page = client.get("/signin", headers={"Accept": BROWSER})
    assert page.status_code == 200
    form = {"csrf": signin_csrf(page.text), "key": key, "next": next_url}
    return client.post("/signin", data=form, headers=ORIGIN | headers, follow_redirects=False)


def cookie_attributes(response, name: str) -> dict[str, str]:
    """The attributes (lower-case) of the Set-Cookie header naming ``name``."""
    for header in response.headers.get_list("set-cookie"):
        parsed = SimpleCookie()
        parsed.load(header)
        if name in parsed:
            morsel = parsed[name]
            flags = {k: str(v) for k, v in morsel.items() if v}
            return {"value": morsel.value, **{k.lower(): v for k, v in flags.items()}}
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers.get_list('set-cookie')}")


def plot_fields(client: TestClient, **headers: str) -> set[str]:
    """The property names of the first page of plots the caller gets."""
    body = client.get(PLOTS, params={"limit": 20}, headers=headers).json()
    return {name for f in body["features"] for name in f["properties"]}


def test_a_key_signs_in_and_the_session_is_its_tier(served) -> None:
    client = browser(served)
    assert B2B_FIELD not in plot_fields(client)
    answer = sign_in(client, key_of(served, Tier.B2B), next_url="/collections?f=html")
    assert answer.status_code == 303
    assert answer.headers["location"] == "http://testserver/collections?f=html"
    assert B2B_FIELD in plot_fields(client)
    page = client.get(PLOTS, params={"limit": 20}, headers={"Accept": BROWSER})
    assert page.status_code == 200 and B2B_FIELD in page.text
    assert 'data-tier="b2b"' in page.text and "/signout" in page.text
    # Chromium 'headless' posts 'Origin: null' under no-referrer, our origin under this meta.
    assert '<meta name="referrer" content="same-origin">' in page.text
    assert page.headers["Cache-Control"] == "private, no-store"
    # The public, with no cookie: neither the field nor the indicator.
    public = browser(served).get(PLOTS, params={"limit": 20}, headers={"Accept": BROWSER})
    assert B2B_FIELD not in public.text and "data-tier" not in public.text
    assert 'class="signin"' in public.text


def test_the_session_cookie_flags(served) -> None:
    answer = sign_in(browser(served), key_of(served, Tier.B2B))
    flags = cookie_attributes(answer, "atlas_session")
    assert flags["httponly"] and flags["samesite"].lower() == "lax" and flags["path"] == "/"
    assert "secure" not in flags  # served over http here
    assert int(flags["max-age"]) == 12 * 3600
    assert len(flags["value"]) == 43
    page = browser(served).get("/signin")
    csrf = cookie_attributes(page, "atlas_csrf")
    assert csrf["httponly"] and csrf["samesite"].lower() == "strict" and csrf["path"] == "/signin"
    assert page.headers["Cache-Control"] == "no-store"


def test_secure_cookies_under_an_https_public_url(served) -> None:
    api = served.settings.api.model_copy(update={"public_url": "https://atlas.agglo.example/geo"})
    with TestClient(create_app(served.settings.model_copy(update={"api": api}))) as client:
        page = client.get("/signin")
        csrf = cookie_attributes(page, "atlas_csrf")
        assert csrf["secure"] and csrf["path"] == "/geo/signin"  # as the browser sees the path
        # The proxy strips /geo; this client sends the cookie the browser would send.
        form = {"csrf": signin_csrf(page.text), "key": key_of(served, Tier.B2B)}
        headers = {"Cookie": f"atlas_csrf={csrf['value']}"}
        origin = {"Origin": "https://atlas.agglo.example"}
        answer = client.post("/signin", data=form, headers=headers | origin, follow_redirects=False)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "https://atlas.agglo.example/geo/"
        flags = cookie_attributes(answer, "atlas_session")
        assert flags["secure"] and flags["httponly"] and flags["path"] == "/geo"
        # http://testserver is not the public origin: a form from it is another site's.
        refused = client.post("/signin", data=form, headers=headers | ORIGIN)
        assert refused.status_code == 403 and "another origin" in refused.text


def test_french_by_default_english_on_request(served) -> None:
    client = browser(served)
    french = client.get("/signin", headers={"Accept": BROWSER})
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text
    english = client.get("/signin", params={"lang": "en"}, headers={"Accept": BROWSER})
    assert '<html lang="en">' in english.text and "Sign in" in english.text
    by_header = client.get("/signin", headers={"Accept": BROWSER, "Accept-Language": "en-GB"})
    assert '<html lang="en">' in by_header.text
    assert "Sign in with" not in by_header.text  # no provider configured on this app


@pytest.mark.parametrize(
    ("form", "headers", "reason"),
    [
        ({"csrf": None}, ORIGIN, "CSRF"),
        ({"csrf": "forged"}, ORIGIN, "CSRF"),
        ({}, {"Origin": "https://evil.example"}, "another origin"),
        ({}, {}, "origin is unknown"),
        ({}, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}, "origin is unknown"),
    ],
)
def test_sign_in_forms_without_a_good_token_or_origin_are_403(
    served, form: dict, headers: dict, reason: str
) -> None:
    client = browser(served)
    token = signin_csrf(client.get("/signin").text)
    data = {"csrf": token, "key": key_of(served, Tier.B2B)} | form
    data = {k: v for k, v in data.items() if v is not None}
    refused = client.post("/signin", data=data, headers=headers, follow_redirects=False)
    assert refused.status_code == 403
    assert refused.json()["code"] == "Forbidden" and reason in refused.json()["description"]
    assert "atlas_session" not in refused.headers.get("set-cookie", "")
    page = client.post(
        "/signin", data=data, headers=headers | {"Accept": BROWSER}, follow_redirects=False
    )
    assert page.status_code == 403 and "<h1>Erreur 403</h1>" in page.text
    assert B2B_FIELD not in plot_fields(client)


def test_null_origin_from_the_same_origin_is_accepted(served) -> None:
    # Under Referrer-Policy: no-referrer a browser posts Origin: null; Sec-Fetch-Site settles it.
    client = browser(served)
    page = client.get("/signin")
    form = {"csrf": signin_csrf(page.text), "key": key_of(served, Tier.B2B)}
    headers = {"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    assert client.post("/signin", data=form, headers=headers).status_code == 200
    assert B2B_FIELD in plot_fields(client)


def test_the_csrf_cookie_of_another_browser_does_not_count(served) -> None:
    mine, theirs = browser(served), browser(served)
    token = signin_csrf(theirs.get("/signin").text)
    mine.get("/signin")  # a cookie of its own, different
    form = {"csrf": token, "key": key_of(served, Tier.B2B)}
    assert mine.post("/signin", data=form, headers=ORIGIN).status_code == 403


def test_a_wrong_key_shows_the_form_again_and_is_audited(served) -> None:
    audit = served.client.app.state.audit
    start = dt.datetime.now(dt.UTC)
    client = browser(served)
    wrong = "atlas_0123456789ab_" + "x" * 43
    answer = sign_in(client, wrong, Accept=BROWSER)
    assert answer.status_code == 401 and "Connexion refusée" in answer.text
    assert "atlas_session" not in answer.headers.get("set-cookie", "")
    assert wrong not in answer.text
    records = [r for r in audit.since(start) if r.action == "signin_refused"]
    assert len(records) == 1 and "invalid API key" in records[0].detail
    assert wrong not in repr(records)


def test_sign_in_and_sign_out_are_audited_without_the_key(served) -> None:
    audit = served.client.app.state.audit
    start = dt.datetime.now(dt.UTC)
    client = browser(served)
    key = key_of(served, Tier.INTERNAL)
    assert sign_in(client, key).status_code == 303
    page = client.get("/collections", headers={"Accept": BROWSER})
    answer = client.post("/signout", data={"csrf": csrf_of(page.text)}, headers=ORIGIN)
    assert answer.status_code == 200  # the redirect to the landing page, followed
    records = [r for r in audit.since(start) if r.collection_id == "session"]
    assert [r.action for r in records] == ["signin", "signout"]
    assert all(r.tier == "internal" and r.who.startswith("key:") for r in records)
    secret = key.split("_", 2)[2]  # the whole secret: base64url may itself hold "_"
    assert not [r for r in records if secret in repr(r)]


def test_sign_out_needs_the_sessions_token_and_ends_it(served) -> None:
    client = browser(served)
    sign_in(client, key_of(served, Tier.B2B))
    page = client.get("/collections", headers={"Accept": BROWSER})
    token = csrf_of(page.text)
    for form in ({}, {"csrf": "forged"}):
        refused = client.post("/signout", data=form, headers=ORIGIN, follow_redirects=False)
        assert refused.status_code == 403
    evil = client.post("/signout", data={"csrf": token}, headers={"Origin": "https://evil.example"})
    assert evil.status_code == 403
    assert B2B_FIELD in plot_fields(client)  # still signed in
    stolen = client.cookies.get("atlas_session")
    done = client.post("/signout", data={"csrf": token}, headers=ORIGIN, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "http://testserver/"
    assert cookie_attributes(done, "atlas_session")["max-age"] == "0"
    assert B2B_FIELD not in plot_fields(client)
    # The old cookie replayed after sign-out is public: the session is gone from the store.
    replay = browser(served)
    replay.cookies.set("atlas_session", stolen)
    assert B2B_FIELD not in plot_fields(replay)


def test_a_revoked_key_ends_its_session_at_once(served) -> None:
    ring = served.client.app.state.keys
    record, key = ring.create(tier="b2b", name="revoked by a sign-in test")
    client = browser(served)
    sign_in(client, key)
    assert B2B_FIELD in plot_fields(client)
    ring.revoke(record.key_id)
    answer = client.get(PLOTS, params={"limit": 5})
    assert answer.status_code == 200
    assert cookie_attributes(answer, "atlas_session")["max-age"] == "0"  # cleared
    assert B2B_FIELD not in {n for f in answer.json()["features"] for n in f["properties"]}


class Clock:
    """Now, moved forward by the test."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(served, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The sessions' clock of the module's app, restored afterwards."""
    value = Clock()
    monkeypatch.setattr(served.client.app.state.sessions, "clock", value)
    return value


def test_idle_expiry(served, clock: Clock) -> None:
    client = browser(served)
    sign_in(client, key_of(served, Tier.B2B))
    clock.now += dt.timedelta(minutes=29)
    assert B2B_FIELD in plot_fields(client)  # used: the idle clock restarts
    clock.now += dt.timedelta(minutes=29)
    assert B2B_FIELD in plot_fields(client)
    clock.now += dt.timedelta(minutes=31)
    assert B2B_FIELD not in plot_fields(client)


def test_absolute_expiry(served, clock: Clock) -> None:
    client = browser(served)
    sign_in(client, key_of(served, Tier.B2B))
    for _ in range(24):  # used every 25 minutes for ten hours
        clock.now += dt.timedelta(minutes=25)
        assert B2B_FIELD in plot_fields(client)
    clock.now += dt.timedelta(hours=2)  # twelve hours after sign-in, though used recently
    assert B2B_FIELD not in plot_fields(client)


@pytest.mark.parametrize(
    "value", ["garbage", "%00%ff", "a" * 43, "x" * 4000, "../../../etc/passwd", "a b;c"]
)
def test_an_invalid_cookie_is_public_and_cleared(served, value: str) -> None:
    client = browser(served)
    client.cookies.set("atlas_session", value)
    answer = client.get(PLOTS, params={"limit": 5}, headers={"Accept": BROWSER})
    assert answer.status_code == 200 and "data-tier" not in answer.text
    assert cookie_attributes(answer, "atlas_session")["max-age"] == "0"
    assert answer.headers["Cache-Control"].startswith("public")


def test_a_bearer_header_wins_over_the_cookie(served) -> None:
    client = browser(served)
    sign_in(client, key_of(served, Tier.B2B))
    internal = served.headers[Tier.INTERNAL]
    parcels = client.get("/collections/parcels/items", params={"limit": 3}, headers=internal)
    fields = {n for f in parcels.json()["features"] for n in f["properties"]}
    assert "numero" in fields  # the internal key's view, not the b2b session's
    b2b = client.get("/collections/parcels/items", params={"limit": 3}).json()
    assert "numero" not in {n for f in b2b["features"] for n in f["properties"]}
    bad = client.get(PLOTS, headers={"Authorization": "Bearer atlas_0123456789ab_" + "y" * 43})
    assert bad.status_code == 401  # a wrong header is never saved by the cookie


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        " /collections",
        "/collections\r\nSet-Cookie: x=y",
    ],
)
def test_next_never_leaves_the_site(served, target: str) -> None:
    answer = sign_in(browser(served), key_of(served, Tier.B2B), next_url=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "http://testserver/"
    page = browser(served).get("/signin", params={"next": target})
    assert 'name="next" value="/"' in page.text


def test_next_keeps_a_path_of_the_site(served) -> None:
    target = "/collections/activity-plots/items?f=html&limit=5"
    answer = sign_in(browser(served), key_of(served, Tier.B2B), next_url=target)
    assert answer.headers["location"] == "http://testserver" + target


def test_a_session_fixation_cookie_is_replaced(served) -> None:
    client = browser(served)
    sign_in(client, key_of(served, Tier.B2B))
    before = client.cookies.get("atlas_session")
    sign_in(client, key_of(served, Tier.INTERNAL))
    after = client.cookies.get("atlas_session")
    assert before != after
    replay = browser(served)
    replay.cookies.set("atlas_session", before)
    assert B2B_FIELD not in plot_fields(replay)  # the former session was ended


@pytest.mark.parametrize("tier", [Tier.B2B, Tier.INTERNAL], ids=lambda t: t.value)
def test_signed_in_pages_join_the_leak_matrix(served, tier: Tier) -> None:
    secrets = _secrets(tuple(sorted(served.sources.items())))
    client = browser(served)
    sign_in(client, key_of(served, tier))
    public = browser(served)
    urls = ["/signin", "/", "/collections", PLOTS, "/collections/activity-sites/items"]
    for url in urls:
        for params in ({"f": "html"}, {}):
            check_response(client.get(url, params=params), tier, url, secrets, params)
            check_response(public.get(url, params=params), Tier.PUBLIC, url, secrets, params)
    assert client.get("/collections/water-pipes", params={"f": "html"}).status_code == (
        200 if tier is Tier.INTERNAL else 404
    )


# --- OpenID Connect, end to end over HTTP, on both key stores -------------------------------


@pytest.fixture(scope="module")
def signer() -> rsa.RSAPrivateKey:
    """The provider's signing key."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(params=BACKENDS)
def oidc_app(request: pytest.FixtureRequest, tmp_path, signer) -> Iterator[tuple]:
    """An app with browser OIDC configured against a running test provider."""
    provider = Provider(signer, redirect_uri="http://testserver/signin/callback")
    with serve(provider) as base:
        plain = key_settings(request.param, tmp_path)
        auth = auth_settings(base, db_schema=plain.auth.db_schema)
        settings = Settings(**(dict(plain) | {"auth": auth}))
        try:
            with TestClient(create_app(settings)) as client:
                yield client, provider
        finally:
            drop_keys(settings)


def _to_provider(client: TestClient, next_url: str = "/collections") -> str:
    page = client.get("/signin", params={"next": next_url}, headers={"Accept": BROWSER})
    assert "Se connecter avec Test SSO" in page.text
    form = {"csrf": csrf_of(page.text, "/signin/oidc"), "next": next_url}
    answer = client.post("/signin/oidc", data=form, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    pending = cookie_attributes(answer, "atlas_oidc")
    assert pending["httponly"] and pending["path"] == "/signin/callback"
    return answer.headers["location"]


def test_oidc_round_trip_with_pkce(oidc_app) -> None:
    client, provider = oidc_app
    authorize = _to_provider(client)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == ["atlas-portal"]
    back = _follow(authorize)
    answer = client.get(back, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "http://testserver/collections"
    assert cookie_attributes(answer, "atlas_oidc")["max-age"] == "0"  # used once
    verifier = provider.token_requests[-1]["code_verifier"]
    assert provider.refused == [] and 43 <= len(verifier) <= 128
    who = client.get("/collections", headers={"Accept": BROWSER})
    assert 'data-tier="b2b"' in who.text and "c.martin" in who.text
    assert who.headers["Cache-Control"] == "private, no-store"  # a b2b answer
    # The callback replayed (same code and state): refused, the session stays what it was.
    again = client.get(back, follow_redirects=False)
    assert again.status_code == 401


def _follow(authorize: str) -> str:
    """Follow the provider's authorization URL; where it sends the browser back."""
    import urllib.error
    import urllib.request

    from tests.auth.test_oidc_signin import _NoRedirect

    try:
        urllib.request.build_opener(_NoRedirect).open(authorize, timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("the provider did not redirect")


def test_oidc_callback_with_a_forged_state_is_refused_and_audited(oidc_app) -> None:
    client, provider = oidc_app
    start = dt.datetime.now(dt.UTC)
    back = _follow(_to_provider(client))
    forged = re.sub(r"state=[^&]+", "state=forged", back)
    answer = client.get(forged, follow_redirects=False, headers={"Accept": BROWSER})
    assert answer.status_code == 401 and "state" in answer.text
    assert provider.token_requests == []  # refused before the code was spent
    records = [r for r in client.app.state.audit.since(start) if r.action == "signin_refused"]
    assert len(records) == 1 and "method=oidc" in records[0].detail
    assert "data-tier" not in client.get("/collections", headers={"Accept": BROWSER}).text


def test_oidc_callback_without_the_pending_cookie_is_refused(oidc_app) -> None:
    client, _ = oidc_app
    back = _follow(_to_provider(client))
    stranger = TestClient(client.app)  # another browser, given the link
    answer = stranger.get(back, follow_redirects=False)
    assert answer.status_code == 401
    assert "atlas_session" not in answer.headers.get("set-cookie", "")


def test_oidc_start_needs_the_csrf_token(oidc_app) -> None:
    client, _ = oidc_app
    client.get("/signin")
    refused = client.post("/signin/oidc", data={"csrf": "x"}, headers=ORIGIN)
    assert refused.status_code == 403


def test_no_provider_no_oidc_routes(served) -> None:
    client = browser(served)
    assert client.post("/signin/oidc", data={"csrf": "x"}, headers=ORIGIN).status_code == 404
    assert client.get("/signin/callback", params={"code": "c", "state": "s"}).status_code == 404


@pytest.mark.parametrize("kind", BACKENDS)
def test_key_guessing_is_rate_limited(kind: str, tmp_path) -> None:
    settings = key_settings(kind, tmp_path, public_per_minute=3)
    try:
        with TestClient(create_app(settings)) as client:
            statuses = []
            for _ in range(4):
                page = client.get("/signin")
                form = {"csrf": signin_csrf(page.text), "key": "atlas_0123456789ab_" + "z" * 43}
                statuses.append(client.post("/signin", data=form, headers=ORIGIN).status_code)
            assert statuses == [401, 401, 401, 429]
    finally:
        drop_keys(settings)


def test_a_tampered_pending_cookie_cannot_redirect_away(oidc_app) -> None:
    from atlas.auth.oidc_signin import Pending

    client, _ = oidc_app
    back = _follow(_to_provider(client))
    jar = client.cookies.jar
    (cookie,) = [c for c in jar if c.name == "atlas_oidc"]
    pending = Pending.decode(cookie.value or "")
    assert pending is not None and pending.next == "/collections"
    evil = Pending(pending.state, pending.nonce, pending.verifier, "https://evil.example/")
    cookie.value = evil.encode()
    answer = client.get(back, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "http://testserver/"


def test_form_bodies_are_bounded_and_urlencoded(served) -> None:
    client = browser(served)
    token = signin_csrf(client.get("/signin").text)
    as_json = client.post("/signin", json={"csrf": token, "key": "k"}, headers=ORIGIN)
    assert as_json.status_code == 415 and as_json.json()["code"] == "UnsupportedMediaType"
    twice = client.post(
        "/signin",
        content=f"csrf={token}&key=a&key=b",
        headers=ORIGIN | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and "'key' twice" in twice.json()["description"]
    many = "&".join(f"f{i}=x" for i in range(40))
    crowded = client.post(
        "/signin",
        content=many,
        headers=ORIGIN | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert crowded.status_code == 400
