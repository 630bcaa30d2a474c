"""Front-end libraries vendored from the npm registry into static/vendor/ (no CDN at run time).

`static/vendor/vendor.json` is the manifest: for each package its npm name, an exact version,
the files to copy out of its tarball (path inside the package → path under
`static/vendor/<name>/`; a source with `*` copies every match into the destination folder) and
its licence files. `python -m devtools.vendor` (`make vendor`) downloads each tarball, refuses it
unless it matches the registry's `dist.integrity` hash, writes only the listed files, and writes
`static/vendor/vendor.lock.json` (sha256 of every file written) and `static/vendor/README.md`.

`python -m devtools.vendor --check` needs no network: the files on disk, the lock and the README
agree with the manifest. Upgrading a library: change its version in vendor.json, run
`make vendor`, look at the diff, commit.

A `sourceMappingURL` comment is taken out of the JavaScript and CSS written: the maps are not
vendored, and Django's manifest storage (collectstatic in production) fails on a file a comment
names that is not there.
"""

import argparse
import base64
import fnmatch
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "static" / "vendor"
MANIFEST = "vendor.json"
LOCK = "vendor.lock.json"
README = "README.md"
REGISTRY = "https://registry.npmjs.org"
TIMEOUT = 60
# Strongest first; npm's own order of preference.
ALGORITHMS = ("sha512", "sha384", "sha256")
SOURCE_MAP = re.compile(
    rb"(?m)^[ \t]*(?://[#@][ \t]*sourceMappingURL=\S*|/\*[#@][ \t]*sourceMappingURL=[^*]*\*/)"
    rb"[ \t]*\r?\n?"
)


class VendorError(Exception):
    """The manifest, a tarball or the files on disk are not what they should be."""


class IntegrityError(VendorError):
    """A tarball's bytes do not match the hash the registry published for it."""


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    files: dict[str, str]
    licenses: list[str]


def log(message: str) -> None:
    print(f"[vendor] {message}", flush=True)


# --- the manifest -------------------------------------------------------------------------------


def load_manifest(vendor_dir: Path = VENDOR) -> list[Package]:
    data = json.loads((vendor_dir / MANIFEST).read_text())
    packages = []
    for entry in data["packages"]:
        name, version = entry["name"], entry["version"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name):
            raise VendorError(f"{name!r}: only unscoped npm names make a folder name")
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise VendorError(f"{name}: pin an exact stable version, not {version!r}")
        if not entry.get("files") or not entry.get("licenses"):
            raise VendorError(f"{name}: list its files and its licence files")
        for path in [*entry["files"], *entry["files"].values(), *entry["licenses"]]:
            safe_relative(path, name)
        packages.append(Package(name, version, dict(entry["files"]), list(entry["licenses"])))
    names = [p.name for p in packages]
    if len(set(names)) != len(names):
        raise VendorError("a package is listed twice in the manifest")
    return packages


def safe_relative(path: str, name: str) -> PurePosixPath:
    """A path in the manifest stays inside its package and its folder."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in path:
        raise VendorError(f"{name}: {path!r} must be a relative path without '..'")
    return pure


# --- the registry and the tarball ---------------------------------------------------------------


def fetch(url: str) -> bytes:
    if urllib.parse.urlsplit(url).scheme != "https":
        raise VendorError(f"refusing to download over anything but HTTPS: {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json, */*"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.read()


def registry_metadata(package: Package, registry: str) -> dict:
    url = f"{registry.rstrip('/')}/{package.name}/{package.version}"
    metadata = json.loads(fetch(url))
    if metadata.get("version") != package.version or metadata.get("name") != package.name:
        raise VendorError(f"{url} describes {metadata.get('name')}@{metadata.get('version')}")
    return metadata


def verify_integrity(data: bytes, integrity: str) -> None:
    """Raise IntegrityError unless `data` matches the Subresource-Integrity string `integrity`
    (`sha512-<base64>`, possibly several separated by spaces; the strongest one known decides)."""
    digests: dict[str, list[str]] = {}
    for token in (integrity or "").split():
        algorithm, _, value = token.partition("-")
        if algorithm in ALGORITHMS and value:
            digests.setdefault(algorithm, []).append(value.split("?", 1)[0])
    for algorithm in ALGORITHMS:
        if algorithm in digests:
            actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
            if actual in digests[algorithm]:
                return
            raise IntegrityError(
                f"{algorithm} of the tarball is {actual}, the registry says {digests[algorithm]}"
            )
    raise IntegrityError(f"no sha256/384/512 hash to check the tarball against: {integrity!r}")


def tarball_files(data: bytes) -> dict[str, bytes]:
    """Every regular file in an npm tarball, by its path inside the package (npm puts them
    under `package/`, some old tarballs under another first folder)."""
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            parts = PurePosixPath(member.name).parts[1:]
            if not parts or ".." in parts:
                continue
            extracted = archive.extractfile(member)
            if extracted is not None:
                files["/".join(parts)] = extracted.read()
    return files


def strip_source_map(path: str, content: bytes) -> bytes:
    if path.endswith((".js", ".css", ".mjs", ".cjs")):
        return SOURCE_MAP.sub(b"", content)
    return content


def select_files(package: Package, contents: dict[str, bytes]) -> dict[str, bytes]:
    """The files to write for `package`: destination path (under its folder) → bytes."""
    chosen: dict[str, bytes] = {}
    for source, destination in package.files.items():
        if "*" in source:
            matches = sorted(p for p in contents if fnmatch.fnmatchcase(p, source))
            targets = {p: f"{destination.rstrip('/')}/{PurePosixPath(p).name}" for p in matches}
        else:
            targets = {source: destination} if source in contents else {}
        if not targets:
            raise VendorError(f"{package.name}@{package.version} has no file {source}")
        for found, target in targets.items():
            if target in chosen:
                raise VendorError(f"{package.name}: two files would be written to {target}")
            chosen[target] = strip_source_map(target, contents[found])
    for licence in package.licenses:
        if licence not in contents:
            raise VendorError(f"{package.name}@{package.version} has no licence file {licence}")
        name = PurePosixPath(licence).name
        if name in chosen:
            raise VendorError(f"{package.name}: two files would be written to {name}")
        chosen[name] = contents[licence]
    return chosen


def homepage(package_json: dict) -> str:
    if package_json.get("homepage"):
        return package_json["homepage"]
    repository = package_json.get("repository") or ""
    url = repository.get("url", "") if isinstance(repository, dict) else repository
    url = re.sub(r"^(git\+)?(git|ssh|https?)://(git@)?", "https://", url)
    return re.sub(r"\.git$", "", url)


def licence_expression(package_json: dict) -> str:
    licence = package_json.get("license")
    if isinstance(licence, dict):  # the old {"type": …} form
        licence = licence.get("type")
    if not licence:
        raise VendorError(f"{package_json.get('name')}: package.json names no licence")
    return licence


# --- writing ------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vendor(vendor_dir: Path = VENDOR, registry: str = REGISTRY) -> dict:
    """Download, verify and write every package in the manifest; return the lock written."""
    packages = load_manifest(vendor_dir)
    prepared = []
    # Everything is downloaded and verified before anything on disk changes.
    for package in packages:
        metadata = registry_metadata(package, registry)
        dist = metadata["dist"]
        log(f"{package.name}@{package.version}: {dist['tarball']}")
        data = fetch(dist["tarball"])
        verify_integrity(data, dist.get("integrity", ""))
        contents = tarball_files(data)
        package_json = json.loads(contents["package.json"])
        if package_json.get("version") != package.version:
            raise VendorError(f"{package.name}: the tarball is {package_json.get('version')}")
        prepared.append((package, dist, package_json, select_files(package, contents)))

    lock = {"packages": {}}
    for package, dist, package_json, files in prepared:
        folder = vendor_dir / package.name
        if folder.exists():
            shutil.rmtree(folder)  # a file an older version had does not linger
        for relative, content in sorted(files.items()):
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        lock["packages"][package.name] = {
            "version": package.version,
            "tarball": dist["tarball"],
            "integrity": dist["integrity"],
            "license": licence_expression(package_json),
            "homepage": homepage(package_json),
            "licenses": sorted(PurePosixPath(p).name for p in package.licenses),
            "files": {relative: sha256(content) for relative, content in sorted(files.items())},
        }
        log(f"{package.name}@{package.version}: {len(files)} files")
    (vendor_dir / LOCK).write_text(json.dumps(lock, indent=2) + "\n")
    (vendor_dir / README).write_text(render_readme(lock))
    return lock


def render_readme(lock: dict) -> str:
    lines = [
        "# Vendored front-end libraries",
        "",
        "Generated by `make vendor` (`python -m devtools.vendor`) from `vendor.json`; do not edit",
        "by hand. The pages load these copies, never a CDN: installations run without internet.",
        "To upgrade a library, change its version in `vendor.json`, run `make vendor`, review the",
        "diff and commit it. `python -m devtools.vendor --check` (run by the tests) checks the",
        "files against `vendor.lock.json` without network. `sourceMappingURL` comments are taken",
        "out (the maps are not vendored).",
        "",
        "| library | version | licence | files | homepage |",
        "|---|---|---|---|---|",
    ]
    for name, entry in sorted(lock["packages"].items()):
        files = ", ".join(f"`{name}/{path}`" for path in entry["files"])
        lines.append(
            f"| {name} | {entry['version']} | {entry['license']} | {files} | {entry['homepage']} |"
        )
    return "\n".join(lines) + "\n"


# --- checking without network -------------------------------------------------------------------


def check(vendor_dir: Path = VENDOR) -> list[str]:
    """What does not agree between the manifest, the lock, the README and the files on disk
    (an empty list when all is well). Needs no network."""
    problems = []
    try:
        packages = load_manifest(vendor_dir)
        lock = json.loads((vendor_dir / LOCK).read_text())
    except (OSError, ValueError, KeyError, VendorError) as error:
        return [f"cannot read the manifest or the lock: {error}"]
    locked = lock.get("packages", {})
    hint = "; run `make vendor`"
    for extra in sorted(set(locked) - {p.name for p in packages}):
        problems.append(f"{extra} is locked but not in the manifest{hint}")
    for package in packages:
        entry = locked.get(package.name)
        if entry is None:
            problems.append(f"{package.name} is in the manifest but not locked{hint}")
            continue
        if entry["version"] != package.version:
            problems.append(
                f"{package.name}: the manifest pins {package.version}, the files on disk are "
                f"{entry['version']}{hint}"
            )
        folder = vendor_dir / package.name
        expected = set(entry["files"])
        for source, destination in package.files.items():
            if "*" in source:
                prefix = destination.rstrip("/") + "/"
                if not any(path.startswith(prefix) for path in expected):
                    problems.append(f"{package.name}: nothing locked for {source}{hint}")
            elif destination not in expected:
                problems.append(f"{package.name}: {destination} is not locked{hint}")
        for licence in package.licenses:
            if PurePosixPath(licence).name not in expected:
                problems.append(f"{package.name}: licence {licence} is not locked{hint}")
        for relative, digest in sorted(entry["files"].items()):
            path = folder / relative
            if not path.is_file():
                problems.append(f"{package.name}/{relative} is missing{hint}")
            elif sha256(path.read_bytes()) != digest:
                problems.append(f"{package.name}/{relative} differs from the lock{hint}")
        if folder.is_dir():
            on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
            for stray in sorted(on_disk - expected):
                problems.append(f"{package.name}/{stray} is not in the lock{hint}")
    readme = vendor_dir / README
    if not readme.is_file() or readme.read_text() != render_readme(lock):
        problems.append(f"static/vendor/README.md does not match the lock{hint}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.vendor", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="only check the files on disk (no network)"
    )
    parser.add_argument("--registry", default=REGISTRY, help=f"npm registry (default {REGISTRY})")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for problem in problems:
            log(problem)
        if not problems:
            log("static/vendor matches vendor.json and vendor.lock.json")
        return 1 if problems else 0
    try:
        vendor(registry=args.registry)
    except (VendorError, OSError) as error:
        log(f"failed: {error}")
        return 1
    problems = check()
    for problem in problems:
        log(problem)
    if not problems:
        log("written and checked: review `git diff static/vendor`, then commit it")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
