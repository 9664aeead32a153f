#!/usr/bin/env bash
# Build the benchmark image from real Debian 12 packages (apt-get download) plus real Go
# binaries, into a scratch directory (never the repository):
#
#   scripts/build-bench-image.sh [DIR]      # default DIR: /tmp/palisade-bench-image
#
# Result in DIR:
#   rootfs/            the merged root filesystem (what `palisade image DIR/rootfs` reads)
#   layers/{1,2,3}/    the three layers: base system, toolchains + language packages, Go binaries
#   image-docker.tar   `docker save` archive of the layers (uncompressed layers)
#   image-oci.tar      OCI image layout as a tar (gzip layers)
#   image-oci/         the same OCI image layout as a directory
#   packages.txt       name=version of every .deb used (the archive moves on; this records it)
#
# Each layer that installs packages carries the whole var/lib/dpkg/status so far (as `apt-get
# install` in a Dockerfile step rewrites it) and var/lib/dpkg/info/<pkg>.list/.md5sums, so both
# tools see the files dpkg owns. Needs apt-get (Debian/Ubuntu), dpkg-deb, python3 >= 3.11.
# Go binaries: the trivy binary (PATH or $TRIVY), kubectl (PATH) and the Go toolchain's
# go/gofmt if golang-1.19-go is in the package list (it is).
set -euo pipefail

DIR=${1:-/tmp/palisade-bench-image}
HERE=$(cd "$(dirname "$0")" && pwd)
TRIVY=${TRIVY:-$(command -v trivy || true)}
KUBECTL=${KUBECTL:-$(command -v kubectl || true)}

# Layer 1: a Debian base system (Priority required/important and the libraries they use).
BASE="adduser apt base-files base-passwd bash bsdutils coreutils dash debconf debian-archive-keyring
debianutils diffutils dpkg e2fsprogs findutils gpgv grep groff-base gzip hostname init-system-helpers
iproute2 less libc-bin libcap2-bin liblocale-gettext-perl libpam-modules libpam-modules-bin
libpam-runtime login man-db mawk mount ncurses-base ncurses-bin net-tools netbase passwd perl-base
procps sed sensible-utils systemd systemd-sysv sysvinit-utils tar tzdata util-linux vim-common
libc6 libssl3 openssl ca-certificates libstdc++6 libgcc-s1 zlib1g libzstd1 liblzma5 libbz2-1.0
libselinux1 libpcre2-8-0 libsystemd0 libudev1 libgnutls30 libkrb5-3 libk5crypto3 libkrb5support0
libgssapi-krb5-2 libcurl4 curl libsqlite3-0 libxml2 libexpat1 libffi8 libreadline8 libncursesw6
libtinfo6 libacl1 libattr1 libaudit1 libaudit-common libblkid1 libmount1 libuuid1 libsmartcols1
libgmp10 libnettle8 libhogweed6 libidn2-0 libunistring2 libp11-kit0 libtasn1-6 libgcrypt20
libgpg-error0 libcap2 libseccomp2 libdb5.3 libsemanage2 libsemanage-common libsepol2 libxxhash0
liblz4-1 libcrypt1 libext2fs2 libcom-err2 libss2 logsave libkmod2 libapparmor1 libargon2-1
libcryptsetup12 libdevmapper1.02.1 libjson-c5 libip4tc2 libbpf1 libelf1 libmnl0 libxtables12
libbsd0 libmd0 libpam0g libgdbm6 libgdbm-compat4 libnghttp2-14 librtmp1 libssh2-1 libpsl5
libldap-2.5-0 libsasl2-2 libsasl2-modules-db libbrotli1 libkeyutils1 wget openssh-client libedit2
libcbor0.8 libfido2-1 tzdata libdebconfclient0 libnsl2 libtirpc3 libtirpc-common"

# Layer 2: toolchains and language packages (Python dist-info, npm package.json, Java jars).
TOOLS="gcc-12 cpp-12 libgcc-12-dev binutils binutils-common libbinutils libctf0 libctf-nobfd0
libgprofng0 libisl23 libmpc3 libmpfr6 libllvm14 libz3-4 libicu72 git git-man libperl5.36
perl-modules-5.36 perl vim-runtime python3.11-minimal libpython3.11-stdlib libpython3.11-minimal
python3-minimal python3 libpython3-stdlib python3.11 media-types python3-yaml python3-requests
python3-urllib3 python3-certifi python3-idna python3-chardet python3-six python3-jinja2
python3-markupsafe python3-setuptools python3-pkg-resources node-debug node-ms node-lodash
node-semver libjackson2-core-java libjackson2-databind-java libjackson2-annotations-java
libguava-java libslf4j-java libcommons-lang3-java golang-1.19-go golang-1.19-src"

mkdir -p "$DIR/debs"
cd "$DIR/debs"
# shellcheck disable=SC2086
all=$(printf '%s\n' $BASE $TOOLS | sort -u)
missing=()
for p in $all; do
  compgen -G "${p}_*.deb" >/dev/null || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get download -q "${missing[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true
fi
: > "$DIR/packages.txt"
for f in *.deb; do
  echo "$(dpkg-deb -f "$f" Package)=$(dpkg-deb -f "$f" Version)" >> "$DIR/packages.txt"
done

rm -rf "$DIR/layers" "$DIR/rootfs"
mkdir -p "$DIR/layers" "$DIR/rootfs"
status="$DIR/status.acc"
: > "$status"

# install_layer N PACKAGES: unpack into layers/N, append stanzas to the running status file,
# write dpkg's per-package file lists.
install_layer() {
  local n=$1; shift
  local L="$DIR/layers/$n"
  mkdir -p "$L/var/lib/dpkg/info"
  local p f arch infoname
  for p in $(printf '%s\n' "$@" | sort -u); do
    f=$(compgen -G "$DIR/debs/${p}_*.deb" | head -n1)
    dpkg-deb -x "$f" "$L"
    # dpkg's status stanza: the control fields with Status after Package.
    dpkg-deb -f "$f" | awk 'NR==1{print; print "Status: install ok installed"; next} {print}' >> "$status"
    echo >> "$status"
    arch=$(dpkg-deb -f "$f" Architecture)
    infoname=$p
    if [ "$(dpkg-deb -f "$f" Multi-Arch)" = same ]; then infoname="$p:$arch"; fi
    dpkg-deb --fsys-tarfile "$f" | tar -t | sed -e 's#^\./#/#' -e 's#/$##' -e 's#^\.$#/.#' > "$L/var/lib/dpkg/info/$infoname.list"
    local ctl; ctl=$(mktemp -d)
    dpkg-deb -e "$f" "$ctl"
    [ -f "$ctl/md5sums" ] && cp "$ctl/md5sums" "$L/var/lib/dpkg/info/$infoname.md5sums"
    rm -rf "$ctl"
  done
  cp "$status" "$L/var/lib/dpkg/status"
}

# shellcheck disable=SC2086
install_layer 1 $BASE
# shellcheck disable=SC2086
install_layer 2 $TOOLS
mkdir -p "$DIR/layers/3/usr/local/bin"
[ -n "$TRIVY" ] && cp "$(readlink -f "$TRIVY")" "$DIR/layers/3/usr/local/bin/trivy"
[ -n "$KUBECTL" ] && cp "$(readlink -f "$KUBECTL")" "$DIR/layers/3/usr/local/bin/kubectl"
# A whiteout, as `RUN rm` leaves one: the image no longer has the vim tutor files.
mkdir -p "$DIR/layers/3/usr/share/vim/vim90"
touch "$DIR/layers/3/usr/share/vim/vim90/.wh.tutor"

# The merged root filesystem: layers copied in order, whiteouts applied.
for n in 1 2 3; do
  cp -a "$DIR/layers/$n/." "$DIR/rootfs/"
done
find "$DIR/rootfs" -name '.wh.*' -print0 | while IFS= read -r -d '' wh; do
  rm -rf "$(dirname "$wh")/$(basename "$wh" | sed 's/^\.wh\.//')" "$wh"
done
rm -f "$status"

python3 "$HERE/pack-image.py" --docker "$DIR/image-docker.tar" --oci "$DIR/image-oci.tar" \
  "$DIR/layers/1" "$DIR/layers/2" "$DIR/layers/3"
# The same OCI image as a layout directory (what `trivy image --input` takes for OCI).
rm -rf "$DIR/image-oci"
mkdir -p "$DIR/image-oci"
tar -xf "$DIR/image-oci.tar" -C "$DIR/image-oci"
echo "built $DIR: $(wc -l < "$DIR/packages.txt") debs, rootfs $(du -sh "$DIR/rootfs" | cut -f1)," \
  "docker archive $(du -h "$DIR/image-docker.tar" | cut -f1), OCI archive $(du -h "$DIR/image-oci.tar" | cut -f1)"
