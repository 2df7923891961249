from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import REPO, Script, canned_profile
from jfmfactory.cli import app
from jfmfactory.inputs.project import Project
from jfmfactory.inputs.seeds import load_role
from scripted_answers import round_one_calls
from scripted_server import ScriptedServer

runner = CliRunner()
#: Requests of a first round: per level five responsibilities and three guideline cells (the
#: years cell is the rubric's), six skills, five tools and the overview; then five reviewers.
ROUND_ONE_REQUESTS = round_one_calls() + 5
#: An issue that stands in every round: the typical years come from the rubric, never redrafted.
YEARS_ISSUE = {"section": "guidelines.P4", "quote": "years of experience", "problem": "vague"}


def jfm(project: Project, monkeypatch: pytest.MonkeyPatch, *args: str, env: dict[str, str] | None = None):
    monkeypatch.chdir(project.root)
    return runner.invoke(app, list(args), env=env or {}, catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["draft", "--role", "no-such-role"], "--role no-such-role"),
        (["draft", "--role", "../etc"], "--role '../etc'"),
        (["draft", "--role", "a/b"], "--role 'a/b'"),
        (["draft", "--role", "product-management", "--threshold", "6"], "--threshold 6"),
        (["draft", "--role", "product-management", "--threshold", "0"], "--threshold 0"),
        (["draft", "--role", "product-management", "--max-rounds", "0"], "--max-rounds 0"),
        (["draft", "--role", "product-management", "--replay", "missing.yaml"], "--replay missing.yaml"),
        (["draft", "--role", "product-management", "--base-url", "ftp://x"], "--base-url"),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_the_flag(
    project: Project, monkeypatch: pytest.MonkeyPatch, args: list[str], names: str
) -> None:
    result = jfm(project, monkeypatch, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jfm: error: ") and names in lines[0]
    assert "Traceback" not in result.output


def test_a_malformed_reviewer_file_is_named_with_its_field(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project.panel / "clarity.toml"
    path.write_text('colour = "red"\n' + path.read_text())
    result = jfm(project, monkeypatch, "draft", "--role", "product-management")
    assert result.exit_code == 2
    assert "clarity.toml" in result.stderr and "colour" in result.stderr


def test_a_key_written_below_the_anchors_table_is_explained(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project.panel / "clarity.toml"
    path.write_text(path.read_text() + '\ncolour = "red"\n')
    result = jfm(project, monkeypatch, "draft", "--role", "product-management")
    assert result.exit_code == 2
    assert "clarity.toml: anchors: " in result.stderr and "colour" in result.stderr


def test_a_passing_run_exits_0_and_prints_the_score_table(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=endpoint_env
    )
    assert result.exit_code == 0, result.output
    assert "panel scores" in result.stdout and "level-differentiation" in result.stdout
    assert "round 1 drafter:responsibilities.P4" in result.stderr
    run = json.loads((project.root / "out" / "product-management" / "run.json").read_text())
    assert run["status"] == "passed"


def test_a_run_that_does_not_pass_exits_3(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    script: Script,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    tmp_path: Path,
) -> None:
    script.verdicts["Clarity"] = [(3, [YEARS_ISSUE])]
    out = tmp_path / "elsewhere"
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m",
        "--max-rounds", "2", "--threshold", "4", "--out", str(out), env=endpoint_env,
    )  # fmt: skip
    assert result.exit_code == 3
    assert json.loads((out / "run.json").read_text())["status"] == "not_passed"


def test_an_unreachable_endpoint_exits_1_with_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-x"}
    result = jfm(project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=env)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("jfm: error: ")]
    assert len(errors) == 1 and errors[0] == result.stderr.strip().splitlines()[-1]
    line = errors[0]
    assert "Traceback" not in result.stderr and "API call failed" not in result.stderr
    assert "http://127.0.0.1:9/v1" in line and "drafter:overview" in line and "cannot connect" in line


def test_an_endpoint_without_a_model_is_refused(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", env={"OPENAI_API_KEY": "sk-x"}
    )
    assert result.exit_code == 2 and "--model" in result.stderr


def test_roles_lists_seeds_with_their_output_state(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    wide = {"COLUMNS": "200"}
    before = jfm(project, monkeypatch, "roles", env=wide)
    assert before.exit_code == 0 and "product-management" in before.stdout and "not drafted" in before.stdout
    assert (
        "Data Science" in before.stdout
        and "no seeds" in before.stdout
        and "PRODUC0.PRODUCTM716F.LEVEL" in before.stdout
    )
    drafted = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=endpoint_env
    )
    assert drafted.exit_code == 0
    after = jfm(project, monkeypatch, "roles", env=wide)
    assert "not drafted" not in after.stdout and "not passed" not in after.stdout
    assert "│ passed" in after.stdout


def test_outside_a_project_the_error_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["roles"])
    assert result.exit_code == 2 and "not inside a jfm project" in result.stderr


def test_sigterm_mid_run_keeps_the_completed_round_and_exits_143(
    project: Project, script: Script, endpoint_env: dict[str, str]
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import threading

    from scripted_server import Reply, tool_name

    second_round = threading.Event()
    # The overview is always the model's: its redraft is a call.
    overview = canned_profile(load_role(REPO / "seeds", "product-management")).description
    quote = " ".join(overview.split()[:3])
    script.verdicts["Clarity"] = [(2, [{"section": "overview", "quote": quote, "problem": "vague"}])]

    def slow_redraft(request):
        # Round 1 drafts every section before the panel; a drafter call after a review is round 2's.
        if tool_name(request) == "ReviewDraft":
            second_round.reviewed = True  # type: ignore[attr-defined]
        elif getattr(second_round, "reviewed", False):
            second_round.set()
            return Reply(delay_s=30, body={})
        return script(request)

    with ScriptedServer(slow_redraft).running() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        jfm_bin = str(Path(sys.executable).with_name("jfm"))
        process = subprocess.Popen(
            [jfm_bin, "draft", "--role", "product-management", "--model", "m"],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert second_round.wait(60)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)

    assert process.returncode == 143
    assert stderr.strip().splitlines()[-1] == "jfm: error: stopped by SIGTERM; completed rounds are kept"
    out = project.root / "out" / "product-management"
    run = json.loads((out / "run.json").read_text())
    assert run["status"] == "interrupted" and len(run["rounds"]) == 1 and "SIGTERM" in run["error"]
    assert json.loads((out / "profile.json").read_text())["provenance"]["round"] == 1


def _write_profile(project: Project, path: Path, same_bullets_everywhere: bool) -> None:
    profile = canned_profile(load_role(project.seeds, "product-management"))
    if same_bullets_everywhere:
        profile.responsibilities = {level: list(profile.responsibilities["P4"]) for level in profile.levels}
    path.write_text(profile.model_dump_json(indent=2))


def test_review_of_a_sound_profile_exits_0_and_writes_beside_the_draft(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    profile = project.root / "edited.json"
    _write_profile(project, profile, same_bullets_everywhere=False)
    args = ("review", "--role", "product-management", "--profile", str(profile), "--model", "m")
    result = jfm(project, monkeypatch, *args, env=endpoint_env)
    assert result.exit_code == 0, result.output
    run = json.loads((project.root / "out" / "product-management" / "review" / "run.json").read_text())
    assert run["status"] == "passed" and run["stop_reason"] == "reviewed" and run["drafter"] is None
    assert len(scripted.requests) == 5  # the reviewers only: nothing is drafted


def test_review_of_the_same_bullets_at_every_level_scores_at_most_2_on_differentiation(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    profile = project.root / "lazy.json"
    _write_profile(project, profile, same_bullets_everywhere=True)
    args = ("review", "--role", "product-management", "--profile", str(profile), "--model", "m")
    result = jfm(project, monkeypatch, *args, env=endpoint_env)
    assert result.exit_code == 3
    run = json.loads((project.root / "out" / "product-management" / "review" / "run.json").read_text())
    (record,) = run["rounds"]
    assert record["scores"]["level-differentiation"] <= 2
    llm = next(r for r in record["reviews"] if r["member"] == "level-differentiation")
    assert llm["score"] == 5  # the scripted reviewer was fooled; the check was not
    assert "level-differentiation" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "Invalid JSON"), ('{"role": "x"}', "title: Field required"), (None, "no such profile")],
)
def test_review_of_a_bad_profile_file_exits_2_naming_it(
    project: Project, monkeypatch: pytest.MonkeyPatch, content: str | None, message: str
) -> None:
    path = project.root / "bad.json"
    if content is not None:
        path.write_text(content)
    result = jfm(project, monkeypatch, "review", "--role", "product-management", "--profile", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"jfm: error: --profile {path}: ") and message in result.stderr


def test_review_of_a_profile_of_other_levels_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project.root / "short.json"
    _write_profile(project, path, same_bullets_everywhere=False)
    data = json.loads(path.read_text())
    data["levels"] = ["P2", "P3"]
    path.write_text(json.dumps(data))
    result = jfm(project, monkeypatch, "review", "--role", "product-management", "--profile", str(path))
    assert result.exit_code == 2 and "levels ['P2', 'P3'] differ from the role's" in result.stderr


def test_review_into_a_drafted_runs_folder_is_refused_and_the_draft_kept(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    out = project.root / "out" / "product-management"
    drafted = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=endpoint_env
    )
    assert drafted.exit_code in (0, 3), drafted.output
    before = {
        path: path.read_bytes() for path in out.rglob("*") if path.is_file() and ".jfm.lock" not in path.name
    }
    asked = len(scripted.requests)
    args = ("review", "--role", "product-management", "--model", "m", "--out", str(out))
    result = jfm(project, monkeypatch, *args, env=endpoint_env)
    assert result.exit_code == 2 and result.stderr == (
        f"jfm: error: --out {out}: holds a drafted run; a review writes to a folder of its own "
        f"(by default {out / 'review'})\n"
    )
    after = {
        path: path.read_bytes() for path in out.rglob("*") if path.is_file() and ".jfm.lock" not in path.name
    }
    assert after == before and len(scripted.requests) == asked


def test_review_without_a_drafted_profile_says_what_to_do(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = jfm(project, monkeypatch, "review", "--role", "product-management")
    assert result.exit_code == 2 and "draft the role first, or pass --profile" in result.stderr


def _break_seeds(seeds: Path, how: str) -> None:
    role = seeds / "product-management"
    if how == "empty folder":
        for path in sorted(seeds.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    elif how == "empty source":
        (role / "pm-levels-overview.txt").write_text("")
    elif how == "binary source":
        (role / "pm-levels-overview.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    elif how == "non-UTF-8 source":
        (role / "pm-levels-overview.txt").write_bytes("Produktmanager für Märkte".encode("latin-1"))
    elif how == "malformed manifest":
        manifest = role / "manifest.toml"
        manifest.write_text(manifest.read_text().replace('title = "Product Management"', "title = 7"))


@pytest.mark.parametrize(
    ("how", "names"),
    [
        ("empty folder", "roles in"),
        ("empty source", "pm-levels-overview.txt: source is empty"),
        ("binary source", "pm-levels-overview.txt: source is binary"),
        ("non-UTF-8 source", "pm-levels-overview.txt: source is not UTF-8"),
        ("malformed manifest", "manifest.toml: title: Input should be a valid string"),
    ],
)
def test_bad_seeds_given_with_seeds_exit_2_with_one_line(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str, names: str
) -> None:
    import shutil

    seeds = tmp_path / "elsewhere"
    shutil.copytree(project.seeds, seeds)
    _break_seeds(seeds, how)
    result = jfm(project, monkeypatch, "draft", "--role", "product-management", "--seeds", str(seeds))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and names in result.stderr and str(seeds) in result.stderr


@pytest.mark.parametrize("command", [("roles",), ("sources", "product-management"), ("draft", "--role", "x")])
def test_seeds_that_are_no_folder_are_refused_by_every_command(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: tuple[str, ...]
) -> None:
    for seeds in (tmp_path / "nowhere", project.root / "prompts" / "system.j2"):
        result = jfm(project, monkeypatch, *command, "--seeds", str(seeds))
        assert result.exit_code == 2 and result.stderr == f"jfm: error: --seeds {seeds}: not a folder\n"


@pytest.mark.parametrize("role", ["a\\b", "..", "x/../y"])
def test_a_role_that_could_leave_the_seeds_folder_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    result = jfm(project, monkeypatch, "draft", "--role", role)
    assert result.exit_code == 2 and "use lower-case letters, digits and '-' only" in result.stderr


def test_an_out_dir_that_cannot_be_written_exits_2(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = jfm(project, monkeypatch, "draft", "--role", "product-management", "--out", str(blocker / "out"))
    assert result.exit_code == 2 and f"--out {blocker}/out: not writable" in result.stderr


def test_draft_all_drafts_every_role_then_skips_those_up_to_date(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    import shutil

    shutil.copytree(project.seeds / "product-management", project.seeds / "product-ops")
    manifest = project.seeds / "product-ops" / "manifest.toml"
    manifest.write_text(manifest.read_text().replace('focus = "Product Management"', 'focus = "Product Ops"'))
    wide = {**endpoint_env, "COLUMNS": "200"}
    first = jfm(project, monkeypatch, "draft", "--all", "--model", "m", "--max-rounds", "1", env=wide)
    # product-ops is not in the catalog: with no neighbouring foci its overview names no function
    # it is distinct from, so it does not pass, and the run exits 3. Its role-boundaries reviewer
    # is not asked: the check has failed that dimension already.
    asked = 2 * ROUND_ONE_REQUESTS - 1
    assert first.exit_code == 3, first.output
    assert (
        "│ product-management │ passed" in first.stdout
        and "│ product-ops        │ not passed" in first.stdout
    )
    assert len(scripted.requests) == asked
    again = jfm(project, monkeypatch, "draft", "--all", "--model", "m", "--max-rounds", "1", env=wide)
    assert again.exit_code == 3 and again.stdout.count("up to date") == 2
    assert len(scripted.requests) == asked  # nothing asked again
    # A profile deleted by hand is drafted again, not called up to date.
    (project.root / "out" / "product-ops" / "profile.json").unlink()
    lost = jfm(project, monkeypatch, "draft", "--all", "--model", "m", "--max-rounds", "1", env=wide)
    assert lost.exit_code == 3 and lost.stdout.count("up to date") == 1
    assert (project.root / "out" / "product-ops" / "profile.json").is_file()
    changed = jfm(project, monkeypatch, "draft", "--all", "--model", "m", "--max-rounds", "2", env=wide)
    assert changed.exit_code == 3 and "up to date" not in changed.stdout


def test_a_live_run_of_roles_whose_requests_wait_in_a_batch_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    exported = jfm(project, monkeypatch, "batch", "export", "--model", "m", env={})
    assert exported.exit_code == 0, exported.output
    ledger = project.root / "out" / "_catalog" / "batches.json"
    for args in (("--role", "product-management"), ("--all",)):
        result = jfm(project, monkeypatch, "draft", *args, "--model", "m", env=endpoint_env)
        assert result.exit_code == 2 and result.stderr.startswith(f"jfm: error: {ledger}: ")
        assert "batch(es); collect them with jfm batch import, or move" in result.stderr
    assert not scripted.requests


def test_a_role_whose_manifest_names_a_focus_another_role_drafts_is_refused_before_any_call(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    import shutil

    shutil.copytree(project.seeds / "product-management", project.seeds / "pm-copy")
    result = jfm(project, monkeypatch, "draft", "--role", "pm-copy", "--model", "m", env=endpoint_env)
    assert result.exit_code == 2 and not scripted.requests
    assert result.stderr == (
        f"jfm: error: {project.seeds / 'pm-copy' / 'manifest.toml'}: focus: 'Product Management' is drafted "
        "from product-management; name a focus of its own (jfm new suggests one)\n"
    )


def test_draft_needs_one_role_or_all(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    assert jfm(project, monkeypatch, "draft").exit_code == 2
    both = jfm(project, monkeypatch, "draft", "--all", "--role", "product-management")
    assert both.exit_code == 2 and "name one --role, or --all" in both.stderr


@pytest.mark.parametrize("command", ["draft", "review"])
def test_every_model_command_takes_the_same_endpoint_flags_with_their_defaults_shown(
    project: Project, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    result = jfm(project, monkeypatch, command, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    flags = "--model --base-url --panel-model --panel-base-url --samples --timeout --concurrency"
    for flag in [*flags.split(), "--record", "--replay", "--threshold", "--seeds"]:
        assert flag in result.stdout
    # Bracketed defaults in help texts are text, not markup that vanishes.
    assert "[default: the embedded model]" in result.stdout


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["draft", "--role", "product-management", "--threshold", "abc"], "Invalid value for '--threshold'"),
        (["draft", "--role", "product-management", "--bogus"], "No such option: --bogus"),
        (["bogus"], "No such command 'bogus'"),
        (["label", "--role", "product-management"], "--dimension or --item"),
        (["compare", "product-management"], "Missing argument 'right'"),
    ],
)
def test_a_usage_error_is_one_line_naming_the_flag(
    project: Project, monkeypatch: pytest.MonkeyPatch, args: list[str], names: str
) -> None:
    result = jfm(project, monkeypatch, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jfm: error: ") and names in lines[0], result.stderr
    assert "Usage:" not in result.output and "╭" not in result.output


def test_jfm_alone_still_prints_its_help(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    result = jfm(project, monkeypatch)
    assert "Usage: " in result.output and "Commands:" in result.output and "jfm: error" not in result.output


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("hello: world\n", "no list of interactions"),
        ("- 1\n", "no list of interactions"),
        ("interactions: [{}]\n", "interaction 1 lacks a request or a response"),
        ("interactions: [1]\n", "interaction 1 is not a request and its response"),
        (
            "interactions:\n- request: {method: POST, uri: x, body: '', headers: {}}\n  response: {}\n",
            "interaction 1 has no response status, response headers, response body",
        ),
        ("", "no list of interactions"),
        ("interactions: [unclosed\n", "while parsing a flow sequence"),
    ],
)
def test_a_replay_file_that_is_not_a_cassette_exits_2_with_one_line(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    content: str,
    problem: str,
) -> None:
    path = project.root / "bogus.yaml"
    path.write_text(content)
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m",
        "--replay", str(path), env=endpoint_env,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.strip() == f"jfm: error: --replay {path}: not a cassette ({problem})"


@pytest.mark.parametrize("flag", ["--model", "--panel-model", "--base-url", "--panel-base-url"])
def test_an_empty_model_or_endpoint_is_refused(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    flag: str,
) -> None:
    model = [] if flag == "--model" else ["--model", "m"]
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", *model, flag, "", env=endpoint_env
    )
    assert result.exit_code == 2 and scripted.requests == []
    assert result.stderr.strip() == f"jfm: error: {flag}: is empty; name one, or leave the flag out"


@pytest.mark.parametrize("variable", ["OPENAI_BASE_URL", "JFM_PANEL_BASE_URL"])
def test_an_endpoint_variable_set_but_empty_is_refused(
    project: Project, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    env = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "OPENAI_API_KEY": "sk-test-key", variable: " "}
    result = jfm(project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=env)
    assert result.exit_code == 2
    assert result.stderr == f"jfm: error: ${variable} is set but empty; give it a URL, or unset it\n"


BROKEN_TEMPLATES = {
    "prompts/review.j2": "{{ nobody }}",
    "prompts/review_reask.j2": "{{ nobody }}",
    "prompts/quotes_text.j2": "{% for item, quotes in items %}{{ nobody }}{% endfor %}",
    "prompts/profile_text.j2": "{{ nobody }}",
    "prompts/items/tool.toml": "{{ nobody }}",
    "prompts/items/guideline.toml": "{{ nobody }}",
    "prompts/degree_years.j2": "{% if not years %}{{ nobody }}{% endif %}",
    "prompts/no_evidence.j2": "{{ nobody }}",
    "prompts/ladder_quotes.j2": "{{ nobody }}",
    "panel/clarity.toml": "{{ nobody }}",
    "panel/grounding.toml": "{{ nobody }}",
}


#: What `jfm review` renders before its first call: the reviewers' templates only.
REVIEW_TEMPLATES = ["prompts/review_reask.j2", "prompts/quotes_text.j2", "panel/grounding.toml"]


@pytest.mark.parametrize(
    ("command", "file"),
    [*(("draft", file) for file in BROKEN_TEMPLATES), *(("review", file) for file in REVIEW_TEMPLATES)],
)
def test_a_template_naming_an_undefined_variable_fails_before_any_call_naming_the_file(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    command: str,
    file: str,
) -> None:
    args = ["draft", "--role", "product-management", "--model", "m"]
    if command == "review":  # a review before, which the failed one must leave as it was
        profile = project.root / "edited.json"
        _write_profile(project, profile, same_bullets_everywhere=False)
        args = ["review", "--role", "product-management", "--profile", str(profile), "--model", "m"]
        assert jfm(project, monkeypatch, *args, env=endpoint_env).exit_code == 0
        scripted.requests.clear()
    folder = project.root / "out" / "product-management"
    before = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
    path = project.root / file
    broken = BROKEN_TEMPLATES[file]
    if path.parent.name == "items":  # an item kind's instruction
        path.write_text(path.read_text().replace('instruction = """', f'instruction = """{broken} ', 1))
        named = f"jfm: error: {path}: 'nobody' is undefined"
    elif path.suffix == ".toml":  # a reviewer's prompt
        path.write_text(path.read_text().replace('prompt = """', f'prompt = """{broken} ', 1))
        named = f"jfm: error: {file}: 'nobody' is undefined"
    else:
        path.write_text(path.read_text() + broken)
        named = f"jfm: error: {path}: 'nobody' is undefined"
    result = jfm(project, monkeypatch, *args, env=endpoint_env)
    assert result.exit_code == 2 and scripted.requests == []
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(named), result.stderr
    if command == "review":
        after = {path: path.read_bytes() for path in folder.rglob("*") if path.is_file()}
        assert after == before and any(path.name == "run.json" for path in before)


def test_a_template_reading_an_attribute_its_value_lacks_fails_before_any_call(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    path = project.prompts / "review.j2"
    path.write_text(path.read_text().replace("{{ reviewer.title }}", "{{ reviewer.titel }}"))
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=endpoint_env
    )
    assert result.exit_code == 2 and scripted.requests == []
    assert result.stderr.strip().startswith(f"jfm: error: {path}: ") and "titel" in result.stderr


@pytest.mark.parametrize(
    ("file", "damage", "says"),
    [
        ("prompts/review.j2", b"\xff", "cannot read"),
        ("prompts/schema.toml", b"\n# \xff", "cannot read"),
        ("prompts/items/tool.toml", b"\n# \xff", "cannot read"),
        ("prompts/quote.j2", b"{{ 1 / 0 }}", "fails as it renders: ZeroDivisionError"),
    ],
)
def test_a_prompt_file_that_cannot_be_read_or_rendered_is_one_line_naming_it(
    project: Project,
    monkeypatch: pytest.MonkeyPatch,
    scripted: ScriptedServer,
    endpoint_env: dict[str, str],
    file: str,
    damage: bytes,
    says: str,
) -> None:
    path = project.root / file
    path.write_bytes(path.read_bytes() + damage)
    result = jfm(
        project, monkeypatch, "draft", "--role", "product-management", "--model", "m", env=endpoint_env
    )
    assert result.exit_code == 2 and scripted.requests == [] and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"jfm: error: {path}") and says in result.stderr
    assert result.stderr.count("\n") == 1


def test_what_an_editor_leaves_beside_the_files_people_edit_is_not_read(
    project: Project, monkeypatch: pytest.MonkeyPatch, scripted: ScriptedServer, endpoint_env: dict[str, str]
) -> None:
    # Emacs's lock while someone edits a file (a link that leads nowhere), a backup, a swap file,
    # and a byte-order mark an editor put first in a manifest.
    for folder in (project.prompts, project.panel):
        (folder / ".#system.j2").symlink_to("root@host.12345:1700000000")
        (folder / "clarity.toml~").write_text("not toml [")
        (folder / ".clarity.toml.swp").write_bytes(b"\x00\xff")
    manifest = project.seeds / "product-management" / "manifest.toml"
    manifest.write_text("\ufeff" + manifest.read_text())
    args = ("draft", "--role", "product-management", "--model", "m", "--max-rounds", "1")
    result = jfm(project, monkeypatch, *args, env=endpoint_env)
    assert result.exit_code == 0, result.stderr
