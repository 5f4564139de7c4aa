#!/usr/bin/env bash
# The step of the b24-rules action (action.yml): runs `b24-rules validate|test|dry-run|diff`
# with the inputs it gets as B24_RULES_* variables (never pasted into the script,
# so an input cannot inject shell). The CLI writes the annotations (stdout) and
# appends the summary to $GITHUB_STEP_SUMMARY itself, with --format github.
set -uo pipefail

command="${B24_RULES_COMMAND:-validate}"
format="${B24_RULES_FORMAT:-github}"
read -r -a paths <<< "${B24_RULES_PATHS:-rules/}"
read -r -a extra <<< "${B24_RULES_ARGS:-}"

fail() {
  echo "::error title=b24-rules action::$1"
  exit "${2:-1}"
}

# The CLI: the repository's own install (the version its lockfile pins), else the
# installed package this action is part of.
if [[ -x node_modules/.bin/b24-rules ]]; then
  cli=(node_modules/.bin/b24-rules)
elif [[ -f "${GITHUB_ACTION_PATH:-}/dist/cli/rules.js" ]]; then
  cli=(node "$GITHUB_ACTION_PATH/dist/cli/rules.js")
else
  fail "b24-rules is not installed in $(pwd): add it (npm i -D b24-rules), and run actions/setup-node and npm ci before this step"
fi

case "$format" in
  github | text) ;;
  *) fail "format must be github or text; got '$format'" 2 ;;
esac

# The fixtures files the fixtures input's globs match, into the array `fixtures_files`.
expand_fixtures() {
  shopt -s nullglob
  local patterns pattern matched
  read -r -a patterns <<< "$B24_RULES_FIXTURES"
  fixtures_files=()
  for pattern in "${patterns[@]}"; do
    # Unquoted on purpose: the pattern is a glob.
    # shellcheck disable=SC2206
    matched=($pattern)
    fixtures_files+=("${matched[@]}")
  done
  [[ ${#fixtures_files[@]} -gt 0 ]] || fail "no fixtures file matches '$B24_RULES_FIXTURES'"
}

case "$command" in
  validate)
    "${cli[@]}" validate --format "$format" "${extra[@]}" "${paths[@]}"
    ;;
  test)
    "${cli[@]}" test --format "$format" "${extra[@]}" "${paths[@]}"
    ;;
  dry-run)
    options=()
    [[ -n "${B24_RULES_EVENTS:-}" ]] && options+=(--events "$B24_RULES_EVENTS")
    [[ -n "${B24_RULES_AT:-}" ]] && options+=(--at "$B24_RULES_AT")
    if [[ -z "${B24_RULES_FIXTURES:-}" ]]; then
      [[ ${#options[@]} -gt 0 ]] || fail "dry-run needs fixtures, events or at: with none of them there is nothing to plan" 2
      "${cli[@]}" dry-run --format "$format" "${options[@]}" "${extra[@]}" "${paths[@]}"
      exit $?
    fi
    expand_fixtures
    status=0
    for fixtures in "${fixtures_files[@]}"; do
      name=$(basename "$fixtures")
      name=${name%.fixtures.yaml}
      name=${name%.fixtures.yml}
      rules=("${paths[@]}")
      for candidate in "$(dirname "$fixtures")/../$name.yaml" "$(dirname "$fixtures")/../$name.yml"; do
        if [[ -f "$candidate" ]]; then
          rules=("$(dirname "$(dirname "$fixtures")")/$name.${candidate##*.}")
          break
        fi
      done
      echo "b24-rules dry-run: ${rules[*]} on $fixtures"
      "${cli[@]}" dry-run --format "$format" --fixtures "$fixtures" "${options[@]}" "${extra[@]}" "${rules[@]}"
      code=$?
      # Errors (1) win over changes planned (2, with --detailed-exitcode).
      if [[ $code -eq 1 || ( $code -ne 0 && $status -eq 0 ) ]]; then status=$code; fi
    done
    exit $status
    ;;
  diff)
    # The base: a git ref (the checkout needs the base's history: fetch-depth: 0) or a folder.
    # Bad usage is 2, as the CLI's; with --detailed-exitcode 2 means "the plans differ", so it is 1 there (as the CLI's).
    usage=2
    for a in "${extra[@]}"; do [[ "$a" == --detailed-exitcode ]] && usage=1; done
    [[ -n "${B24_RULES_BASE:-}" ]] || fail "diff needs base: the git ref to compare with (e.g. origin/main, with actions/checkout fetch-depth: 0) or a folder of rules" "$usage"
    options=(--base "$B24_RULES_BASE")
    [[ -n "${B24_RULES_EVENTS:-}" ]] && options+=(--events "$B24_RULES_EVENTS")
    [[ -n "${B24_RULES_AT:-}" ]] && options+=(--at "$B24_RULES_AT")
    if [[ -n "${B24_RULES_FIXTURES:-}" ]]; then
      expand_fixtures
      for fixtures in "${fixtures_files[@]}"; do options+=(--fixtures "$fixtures"); done
    fi
    "${cli[@]}" diff --format "$format" "${options[@]}" "${extra[@]}" "${paths[@]}"
    ;;
  *)
    fail "command must be validate, test, dry-run or diff; got '$command'" 2
    ;;
esac
