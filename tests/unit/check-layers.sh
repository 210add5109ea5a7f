#!/usr/bin/env bash
# check-layers.sh [SRC_DIR] — the folders of src/ are layers: a file includes
# only from its own folder and from the folders below it (docs/architecture.md),
# and no two modules (a .c with its .h) include each other, directly or round a
# circle. Prints every offending include and exits 1; prints one line and
# exits 0 when the layering holds.
set -euo pipefail

src=${1:-src}
[ -d "$src" ] || { echo "check-layers: $src: no such directory" >&2; exit 2; }

# folder -> the folders it may include from (besides itself). Keep in step
# with the table in docs/architecture.md.
declare -A allowed=(
	[util]=""
	[journal]="util"
	[policy]="util journal identity"
	[identity]="util"
	[signals]="util policy identity"
	[kernel]="util policy identity signals"
	[daemon]="util journal policy identity signals kernel"
	[cli]="util journal policy identity signals kernel"
)

bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

while IFS= read -r file; do
	rel=${file#"$src"/}
	folder=${rel%%/*}
	if [ "$folder" = "$rel" ]; then
		echo "check-layers: $file: a source directly in $src/ (every file belongs to a layer)"
		bad=1
		continue
	fi
	if [ -z "${allowed[$folder]+set}" ]; then
		echo "check-layers: $file: folder '$folder' is not a known layer (add it to this script and to docs/architecture.md)"
		bad=1
		continue
	fi
	module=${rel%.*}
	# A module cut into files shares a private X-internal.h: it is X's own.
	module=${module%-internal}
	echo "$module $module" >> "$edges"
	while IFS= read -r inc; do
		case "$inc" in
		actgate/*|actgate.skel.h|actgate-version.h) continue ;; # the ABI (include/), the generated skeleton and version
		*/*) ;;
		*)
			echo "check-layers: $file: #include \"$inc\" names no folder"
			bad=1
			continue ;;
		esac
		to=${inc%%/*}
		if [ ! -e "$src/$inc" ]; then
			echo "check-layers: $file: #include \"$inc\": no such file in $src/"
			bad=1
			continue
		fi
		if [ "$to" != "$folder" ] && [[ " ${allowed[$folder]} " != *" $to "* ]]; then
			echo "check-layers: $file: #include \"$inc\" goes from $folder/ to $to/, which is not below it"
			bad=1
		fi
		target=${inc%.h}
		target=${target%-internal}
		[ "$target" = "$module" ] || echo "$module $target" >> "$edges"
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find "$src" -name '*.[ch]' | sort)

# tsort names every circle it finds on stderr.
if ! loops=$(tsort "$edges" 2>&1 >/dev/null) || [ -n "$loops" ]; then
	echo "check-layers: modules that include each other in a circle:"
	printf '%s\n' "$loops" | sed 's/^/  /'
	bad=1
fi

if [ "$bad" -ne 0 ]; then
	echo "check-layers: FAILED"
	exit 1
fi
echo "check-layers: includes go only down; no circles ($(sort -u "$edges" | wc -l) edges)"
