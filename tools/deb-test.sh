#!/bin/bash
# SPDX-License-Identifier: MIT OR GPL-2.0
#
# deb-test.sh build|check - mempool's Debian packages, built from debian/
# and tried the way a user would.
#
#   build  copy the tree (its tracked files and the untracked ones git does
#          not ignore) into build/deb/src, run dpkg-buildpackage -us -uc -b
#          there (it cleans its source tree, which must not be the work
#          tree), and lintian on the result: libmempool1, libmempool-dev and
#          mempool-dkms land in build/deb/, lintian's report in
#          build/deb/lintian.txt.  Fails when the build fails or lintian
#          reports an error.
#   check  as root: build, then install the three packages with apt-get from
#          the files; build tools/example.c against libmempool-dev with
#          plain pkg-config (no PKG_CONFIG_PATH) and run it; have DKMS build
#          and install mempool.ko for the newest installed kernel headers
#          (the package's postinst may already have); build the example
#          module (tools/examples/kmod) against the installed source and
#          DKMS's Module.symvers; purge the packages and check the machine
#          is as it was: the same packages in the same states, nothing left
#          in /usr/src, /var/lib/dkms or /lib/modules.  An exit trap purges
#          and removes whatever got installed, whichever step failed.
#          Writes build/logs/pkg.tap (the version check first, which runs
#          anywhere); the rest skips, with the reason, when not root, when
#          a tool is missing, or when mempool's packages or DKMS module are
#          there already (they are not this test's to remove).
set -uo pipefail

mode=${1:?usage: deb-test.sh build|check}
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
tap=$top/build/logs/pkg.tap
pkgs=(libmempool1 libmempool-dev mempool-dkms)
n=0
lines=()

ok() { n=$((n + 1)); lines+=("ok $n $*"); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); lines+=("not ok $n $*"); echo "not ok $n $*"; }
skip() { n=$((n + 1)); lines+=("ok $n # SKIP $*"); echo "ok $n # SKIP $*"; }
write_tap() {
	mkdir -p "$(dirname "$tap")"
	{ echo "TAP version 13"; echo "1..$n"; printf '%s\n' "${lines[@]}"; } \
		> "$tap"
}

# The release, as each place that carries it says: the Makefile's VERSION
# (the library's, whatever it is derived from), MODULE_VERSION's
# MPOOL_VERSION, dkms.conf and debian/changelog (the package's).
versions() {
	local mk api dkms deb
	# shellcheck disable=SC2016 # $(VERSION) is make's, not the shell's
	mk=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory \
		-C "$top" --eval='mpool-print-version: ; @echo $(VERSION)' \
		mpool-print-version 2>/dev/null)
	api=$(sed -n 's/^#define MPOOL_VERSION[[:space:]]*"\(.*\)"/\1/p' \
		"$top/kernel/mpool_api.h")
	dkms=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
	deb=$(sed -n '1s/^mempool (\([^)]*\)).*/\1/p' "$top/debian/changelog")
	echo "Makefile=$mk kernel/mpool_api.h=$api dkms.conf=$dkms" \
		"debian/changelog=$deb"
	[ -n "$mk" ] && [ "$api" = "$mk" ] && [ "$dkms" = "$mk" ] &&
		[ "$deb" = "$mk" ]
}

# Copy the tree, build the packages, run lintian.  Leaves $version set.
build() {
	local src=$out/src
	version=$(sed -n '1s/^mempool (\([^)]*\)).*/\1/p' "$top/debian/changelog")
	rm -rf "$out" && mkdir -p "$src"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$top" && git ls-files -z --cached --others --exclude-standard |
			tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
			tar -xf - -C "$src"
	else
		tar -C "$top" --exclude=./build --exclude=./.git -cf - . |
			tar -xf - -C "$src"
	fi
	# A make that runs this must not hand its flags and variables (O=,
	# -k, its jobserver) to the package's own make.
	(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
		dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1
	local rc=$? missing=()
	for p in "${pkgs[@]}"; do
		compgen -G "$out/${p}_${version}_*.deb" >/dev/null || missing+=("$p")
	done
	if [ $rc -eq 0 ] && [ ${#missing[@]} -eq 0 ]; then
		ok "dpkg-buildpackage -us -uc -b builds ${pkgs[*]} $version"
	else
		tail -30 "$out/build.log" | sed 's/^/# /'
		not_ok "dpkg-buildpackage -us -uc -b builds ${pkgs[*]} $version" \
			"(rc $rc; missing: ${missing[*]:-none}; log $out/build.log)"
		return 1
	fi
	lintian -I --tag-display-limit 0 "$out"/mempool_"$version"_*.changes \
		>"$out/lintian.txt" 2>&1
	local e w i
	e=$(grep -c '^E: ' "$out/lintian.txt")
	w=$(grep -c '^W: ' "$out/lintian.txt")
	i=$(grep -c '^I: ' "$out/lintian.txt")
	grep -v "^running with root privileges" "$out/lintian.txt" | sed "s/^/# /"
	if [ "$e" -eq 0 ] && ! grep -q '^internal error' "$out/lintian.txt"; then
		ok "lintian: no errors ($w warnings, $i notes; $out/lintian.txt)"
	else
		not_ok "lintian: $e errors, $w warnings ($out/lintian.txt)"
		return 1
	fi
}

# --- the package-state snapshot and the cleanup ------------------------

pkg_state() {
	dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\n' |
		sort
}

# Where DKMS and the packages write, beyond dpkg's own records: DKMS's
# tree (and the module-signing key it makes on its first build), the
# module sources, the modules it installs.
fs_state() {
	{
		find /var/lib/dkms -maxdepth 1
		find /usr/src -maxdepth 1 -name 'mempool*'
		find /lib/modules -path '*/updates*'
	} 2>/dev/null | sort
}

installed_any() { # any of ours known to dpkg (installed or config-files)?
	local p st
	for p in "${pkgs[@]}"; do
		st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != not-installed ] && return 0
	done
	return 1
}

leftovers() { # what of ours is still on the machine, one per line
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
			grep -qv '^not-installed$' && echo "package $p"
	done
	ls -d /usr/src/mempool-* /var/lib/dkms/mempool 2>/dev/null
	ls /lib/modules/*/updates/dkms/mempool.ko* 2>/dev/null
}

# Purge and remove whatever of ours is there, and what apt pulled in for it.
sweep() {
	local p new
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null |
			grep -qv '^not-installed$' &&
			dpkg --purge "$p" >>"$out/sweep.log" 2>&1
	done
	[ -d /var/lib/dkms/mempool ] &&
		dkms remove "mempool/$version" --all >>"$out/sweep.log" 2>&1
	rm -rf /usr/src/mempool-"$version" /var/lib/dkms/mempool
	# A signing key DKMS made for our build; any it had before stays.
	for f in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
		[ -e "$f" ] && ! grep -qx "$f" "$out/fs.before" && rm -f "$f"
	done
	# The updates/dkms directories DKMS made, if they are empty now.
	comm -13 "$out/fs.before" <(fs_state) | grep '/updates' |
		sort -r | xargs -r rmdir 2>/dev/null
	new=$(comm -13 <(cut -d' ' -f1 "$out/state.before") \
		<(pkg_state | cut -d' ' -f1))
	# shellcheck disable=SC2086 # one package name per word
	[ -n "$new" ] && dpkg --purge $new >>"$out/sweep.log" 2>&1
	rm -rf "$out/kmod"
}

# Whichever way check ends (a step that failed, a signal, the end), sweep
# once if anything was installed, and record what ran.
armed=
on_exit() {
	trap - EXIT
	if [ -n "$armed" ]; then
		armed=
		sweep
	fi
	write_tap
}

# --- check ---------------------------------------------------------------

check() {
	local why=() kver kdir cflags libs v
	if versions_said=$(versions); then
		ok "one release everywhere: $versions_said"
	else
		not_ok "one release everywhere: $versions_said"
	fi
	[ "$(id -u)" -eq 0 ] || why+=("not root")
	for t in dpkg-buildpackage dh dh_dkms lintian dkms apt-get cc make; do
		command -v "$t" >/dev/null || why+=("no $t")
	done
	kver=$(for b in /lib/modules/*/build; do
		[ -d "$b" ] && basename "$(dirname "$b")"; done | sort -V | tail -1)
	[ -n "$kver" ] || why+=("no kernel headers in /lib/modules/*/build")
	if [ ${#why[@]} -eq 0 ]; then
		installed_any && why+=("mempool's packages are installed already")
		[ -n "$(leftovers)" ] &&
			why+=("mempool's DKMS module or source is there already")
	fi
	if [ ${#why[@]} -ne 0 ]; then
		local reasons
		reasons=$(printf '%s, ' "${why[@]}")
		skip "Debian packages: ${reasons%, }"
		return 0
	fi
	kdir=/lib/modules/$kver/build

	build || return 1

	pkg_state >"$out/state.before"
	fs_state >"$out/fs.before"
	armed=1
	trap on_exit EXIT
	trap 'exit 130' INT TERM HUP
	local debs=()
	for p in "${pkgs[@]}"; do
		debs+=("$(compgen -G "$out/${p}_${version}_*.deb")")
	done
	if DEBIAN_FRONTEND=noninteractive apt-get install -y \
		--no-install-recommends "${debs[@]}" >"$out/install.log" 2>&1; then
		ok "apt-get install ./libmempool1 ./libmempool-dev ./mempool-dkms"
	else
		tail -20 "$out/install.log" | sed 's/^/# /'
		not_ok "apt-get install of the packages (log $out/install.log)"
		return 1
	fi

	# The seed's example, against the installed library, as a user builds it.
	cflags=$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR \
		-u PKG_CONFIG_SYSROOT_DIR pkg-config --cflags mempool)
	libs=$(env -u PKG_CONFIG_PATH -u PKG_CONFIG_LIBDIR \
		-u PKG_CONFIG_SYSROOT_DIR pkg-config --libs mempool)
	# shellcheck disable=SC2206 # pkg-config's words
	local flags=($cflags $libs)
	if cc "$top/tools/example.c" -o "$out/example" "${flags[@]}" \
		>"$out/example.log" 2>&1 &&
		"$out/example" >>"$out/example.log" 2>&1 &&
		ldd "$out/example" >>"$out/example.log" 2>&1 &&
		grep -Eq "libmempool.so.1 => (/usr)?/lib/$(gcc -print-multiarch)/" \
			"$out/example.log"; then
		ok "tools/example.c builds with pkg-config mempool (${flags[*]}) and runs on the packaged libmempool.so.1"
	else
		sed 's/^/# /' "$out/example.log" | tail -20
		not_ok "tools/example.c against the installed libmempool-dev (log $out/example.log)"
	fi

	# DKMS: mempool.ko for the newest installed headers.
	if ! dkms status "mempool/$version" -k "$kver" | grep -q installed; then
		dkms install "mempool/$version" -k "$kver" >"$out/dkms.log" 2>&1
	fi
	local ko
	ko=$(compgen -G "/lib/modules/$kver/updates/dkms/mempool.ko*" | head -1)
	v=$( [ -n "$ko" ] && modinfo -F version "$ko")
	if dkms status "mempool/$version" -k "$kver" | grep -q installed &&
		[ "$v" = "$version" ] &&
		[ -f "/var/lib/dkms/mempool/$version/$kver/$(uname -m)/Module.symvers" ]; then
		ok "DKMS built and installed mempool.ko $v for $kver ($ko), Module.symvers kept"
	else
		dkms status 2>&1 | sed 's/^/# /'
		not_ok "DKMS build and install of mempool.ko for $kver (found '${ko:-none}', version '${v:-none}')"
	fi

	# A module author's build against what the packages installed.
	mkdir -p "$out/kmod"
	cp "$top"/tools/examples/kmod/{Kbuild,mpool_example.c} "$out/kmod/"
	if make -C "$kdir" M="$out/kmod" \
		MPOOL_SRC="/usr/src/mempool-$version" \
		MPOOL_SYMVERS="/var/lib/dkms/mempool/$version/$kver/$(uname -m)/Module.symvers" \
		modules >"$out/kmod.log" 2>&1 &&
		[ "$(modinfo -F depends "$out/kmod/mpool_example.ko")" = mempool ] &&
		modinfo -F import_ns "$out/kmod/mpool_example.ko" | grep -qx MPOOL
	then
		ok "the example module builds against /usr/src/mempool-$version and DKMS's Module.symvers (depends: mempool, import_ns: MPOOL)"
	else
		tail -20 "$out/kmod.log" | sed 's/^/# /'
		not_ok "the example module against the installed mempool-dkms (log $out/kmod.log)"
	fi

	# Remove, as a user would; then the sweep must find nothing to do.
	DEBIAN_FRONTEND=noninteractive apt-get purge -y "${pkgs[@]}" \
		>"$out/remove.log" 2>&1
	local left
	left=$(leftovers)
	sweep
	armed=
	if [ -z "$left" ] &&
		{ diff -u "$out/state.before" <(pkg_state) &&
		  diff -u "$out/fs.before" <(fs_state); } >"$out/state.diff"; then
		ok "apt-get purge, and removing the signing key DKMS made for it, leave the machine as it was (packages, /usr/src, /var/lib/dkms, /lib/modules)"
	else
		echo "$left" | while read -r l; do echo "# left by apt-get purge: $l"; done
		sed 's/^/# /' "$out/state.diff"
		not_ok "apt-get purge leaves the machine as it was"
	fi
}

case $mode in
build)
	bash "$top/tools/deps.sh" pkg || exit 1
	build
	;;
check)
	check
	on_exit
	! grep -q '^not ok' "$tap"
	;;
*)
	echo "usage: deb-test.sh build|check" >&2
	exit 2
	;;
esac
