#!/usr/bin/env bash
# Desktop integration on Linux: menu entry, icons, AppStream metadata and the study-file MIME
# type, for the current user (default) or system-wide (PREFIX=/usr/local, as root).
#
#   packaging/linux/install.sh             # into ~/.local/share
#   PREFIX=/usr/local packaging/linux/install.sh
#   packaging/linux/install.sh --uninstall
#
# It does not install the program itself: do that first (pipx install . , or the frozen app
# from packaging/build_frozen.sh with its folder on the PATH) so that `hpo-desktop` runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
icons="$here/../../resources/icons"
share="${PREFIX:+$PREFIX/share}"
share="${share:-${XDG_DATA_HOME:-$HOME/.local/share}}"
id=org.hpodesktop.HPODesktop

files=(
  "applications/$id.desktop"
  "metainfo/$id.metainfo.xml"
  "mime/packages/$id.xml"
  "icons/hicolor/scalable/apps/$id.svg"
)
for size in 16 24 32 48 64 128 256; do
  files+=("icons/hicolor/${size}x${size}/apps/$id.png")
done

if [[ "${1:-}" == "--uninstall" ]]; then
  for f in "${files[@]}"; do rm -f "$share/$f"; done
else
  install -Dm644 "$here/$id.desktop" "$share/applications/$id.desktop"
  install -Dm644 "$here/$id.metainfo.xml" "$share/metainfo/$id.metainfo.xml"
  install -Dm644 "$here/$id.mime.xml" "$share/mime/packages/$id.xml"
  install -Dm644 "$here/../../resources/hpo-desktop.svg" "$share/icons/hicolor/scalable/apps/$id.svg"
  for size in 16 24 32 48 64 128 256; do
    install -Dm644 "$icons/hpo-desktop-$size.png" "$share/icons/hicolor/${size}x${size}/apps/$id.png"
  done
fi
command -v update-mime-database >/dev/null && update-mime-database "$share/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$share/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
echo "${1:-install} done under $share"
