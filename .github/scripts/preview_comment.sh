#!/usr/bin/env bash
# Create or update the one preview comment of a pull request.
#
#   preview_comment.sh BODY     (environment: GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER)
#
# The comment is found by a marker in its first line, among comments written by
# this workflow's token (github-actions[bot]), so each push edits the same comment
# instead of adding one.
set -euo pipefail

marker='<!-- sculpture-store:site-preview -->'
body="$marker
$1"
api="repos/$GITHUB_REPOSITORY/issues"
existing=$(gh api --paginate "$api/$PR_NUMBER/comments" \
  --jq ".[] | select(.user.login == \"github-actions[bot]\" and (.body | startswith(\"$marker\"))) | .id" |
  head -n 1)
if [ -n "$existing" ]; then
  gh api --method PATCH "$api/comments/$existing" --field body="$body" --silent
else
  gh api --method POST "$api/$PR_NUMBER/comments" --field body="$body" --silent
fi
