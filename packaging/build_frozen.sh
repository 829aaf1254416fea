#!/usr/bin/env bash
# Build the one-folder frozen app with PyInstaller and smoke-test it:
#   --version, a tiny headless study, and the window starting offscreen and quitting.
#
#   pip install "pyinstaller>=6"       # once, into the environment that has HPO Desktop
#   packaging/build_frozen.sh          # -> dist/hpo-desktop/hpo-desktop
#
# Prints the folder's size and the start-up times; record them in packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${DIST:-dist}"
work="${WORK:-build/pyinstaller}"

t0=$(date +%s)
pyinstaller --noconfirm --log-level WARN --distpath "$out" --workpath "$work" packaging/pyinstaller/hpo-desktop.spec
echo "built in $(( $(date +%s) - t0 )) s"
app="$out/hpo-desktop/hpo-desktop"
du -sh "$out/hpo-desktop"

smoke="$(mktemp -d)"
trap 'rm -rf "$smoke"' EXIT
export HOME="$smoke" XDG_CONFIG_HOME="$smoke/.config" HPO_DESKTOP_DATA_DIR="$smoke/data" QT_QPA_PLATFORM=offscreen

"$app" --version
cat > "$smoke/tiny.toml" <<'SPEC'
[study]
name = "frozen"
metric = "val_accuracy"
direction = "maximize"
trials = 2
[strategy]
kind = "bayesian"
initial_points = 1
[data]
dataset = "digits"
[model]
epochs = 2
[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
SPEC
TIMEFORMAT="--help: %R s"
time "$app" --help >/dev/null
"$app" run "$smoke/tiny.toml" --quiet
TIMEFORMAT="window shown on the demo and closed: %R s"
time HPO_DESKTOP_QUIT_AFTER_MS=1 "$app" --demo
echo "smoke test passed"
