#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the Rust files under src/ changed since main, committed or not.
# Not run in CI: it rebuilds and tests once per mutant, too slow on two cores.
#
#   scripts/mutants.sh                          every changed file, the whole test suite per mutant
#   scripts/mutants.sh --re 'apply|verify'      only mutants whose name matches
#   MUTANTS_JOBS=2 scripts/mutants.sh ...       two mutants at a time, each built in its own copy
#   scripts/mutants.sh -- --lib --test edits    only these targets, built and tested per mutant (faster)
#   scripts/mutants.sh --file src/app/bulk.rs   these files, changed or not (--iterate skips what an earlier
#                                               run into the same output caught)
#
# MUTANTS_BASE picks another base than main. Install the tool with `cargo install cargo-mutants --locked`.
# The report (caught.txt, missed.txt, timeout.txt, unviable.txt) goes to $CARGO_TARGET_DIR/mutants.out.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
base="${MUTANTS_BASE:-main}"
since="$(git merge-base "$base" HEAD)"
files=()
for a in "$@"; do
    [[ "$a" == --file || "$a" == --file=* ]] && since="" && break
done
[[ -n "$since" ]] && while IFS= read -r f; do
    [[ -f "$f" ]] && files+=(--file "$f")
done < <(git diff --name-only "$since" -- 'src/*.rs' 'src/**/*.rs' | sort -u)
if [[ -n "$since" && ${#files[@]} -eq 0 ]]; then
    echo "no Rust file under src/ changed since $base: nothing to mutate"
    exit 0
fi
if [[ -n "$since" ]]; then
    echo "mutating (since $base):"
    printf '  %s\n' "${files[@]}" | grep -v -- '--file'
fi
if ! cargo mutants --version >/dev/null 2>&1; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 2
fi
# One job by default (MUTANTS_JOBS=N for more): the machine is shared and each build already uses every core.
# The shared target dir keeps builds incremental; the tree is copied, so the working copy is never touched.
# With more jobs, a CARGO_TARGET_DIR of the environment would be shared by builds of different mutants (each
# job's tests then running another job's mutant: a mutant the tests catch was reported missed): it is
# unset, and each job builds in its own copy.
jobs="${MUTANTS_JOBS:-1}"
output="${CARGO_TARGET_DIR:-target}"
if [[ "$jobs" != 1 ]]; then
    unset CARGO_TARGET_DIR
fi
# What follows `--` goes to every cargo call (-C), not to `cargo test` alone: otherwise each mutant's build
# is `cargo test --no-run` of every test target: 70-120 s per mutant here, against 12-44 s for the few run.
own=()
cargo_args=()
seen_dashes=""
for a in "$@"; do
    if [[ -n "$seen_dashes" ]]; then
        cargo_args+=(-C "$a")
    elif [[ "$a" == -- ]]; then
        seen_dashes=1
    else
        own+=("$a")
    fi
done
exec cargo mutants --jobs "$jobs" --profile mutants --output "$output" ${files[@]+"${files[@]}"} \
    ${own[@]+"${own[@]}"} ${cargo_args[@]+"${cargo_args[@]}"}
