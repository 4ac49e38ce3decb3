# shellcheck shell=bash
# debian.sh: shell functions the image builders share (sourced by bench_images.sh and
# clean_images.sh): where the Debian mirror is, and how to remove a rootfs safely.
# The caller sets SUITE (e.g. bookworm); nothing here runs on its own.

# The Debian mirror from the apt sources (one-line .list and deb822 .sources files): an entry
# for $SUITE itself, else the first main-archive entry (a suite with no -security/-updates part).
debian_mirror() {
    if [ -n "${MIRROR:-}" ]; then echo "$MIRROR"; return; fi
    python3 - "$SUITE" <<'PY'
import glob, re, sys
suite = sys.argv[1]
files = ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")) \
    + sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
entries = []  # (uri, suites, components)
for path in files:
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        continue
    if path.endswith(".sources"):
        for para in re.split(r"\n\s*\n", text):
            fields, key = {}, None
            for line in para.splitlines():
                if line.lstrip().startswith("#"):
                    continue
                if line[:1].isspace() and key:
                    fields[key] += " " + line.strip()
                    continue
                m = re.match(r"([A-Za-z0-9-]+):\s*(.*)", line)
                if m:
                    key = m.group(1).lower()
                    fields[key] = m.group(2).strip()
            if fields.get("enabled", "yes").lower() == "no" or "deb" not in fields.get("types", "").split():
                continue
            for uri in fields.get("uris", "").split():
                entries.append((uri, fields.get("suites", "").split(), fields.get("components", "").split()))
    else:
        for line in text.splitlines():
            m = re.match(r"\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)", line.split("#", 1)[0])
            if m:
                entries.append((m.group(1), [m.group(2)], m.group(3).split()))
entries = [e for e in entries if re.match(r"(https?|file)://", e[0]) and "main" in e[2]]
for want in (lambda s: s == suite, lambda s: "-" not in s and "/" not in s):
    for uri, suites, _ in entries:
        if any(want(s) for s in suites):
            print(uri)
            sys.exit(0)
sys.exit("no Debian mirror with component main in the apt sources (set MIRROR=URL)")
PY
}

# remove_rootfs DIR: unmount what a killed debootstrap may have left mounted below DIR (proc,
# sys), then delete DIR without crossing into another file system
remove_rootfs() {
    local dir=$1 mnt
    [ -e "$dir" ] || return 0
    for mnt in $(findmnt -rno TARGET | grep -F "$dir/" | sort -r || true); do
        umount -l "$mnt" || true
    done
    rm -rf --one-file-system "$dir"
}
