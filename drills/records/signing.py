"""Signed seals: who sealed a run, proved by a signature over its manifest.json.

    load_signer(key_path, signer=None) -> Signer   the key read once, checked before any drill starts
    Signer.sign(manifest_bytes) -> dict             the content of manifest.sig.json (never the key)
    load_trusted(paths) -> Trusted                  public keys: OpenSSH lines, PEM, allowed_signers files
    check(run_dir, manifest_bytes, trusted) -> str | None   why the run's signature does not hold

The chain of manifests (drills.records.evidence) proves order and completeness; whoever can write
the reports folder can still recompute it whole. A signature over every manifest, checked against
keys the verifier trusts, proves who sealed each run, and, since a manifest names the previous
manifest's hash, that the chain up to it is the one that key sealed.

Two kinds of key:
- an OpenSSH private key (`ssh-keygen -t ed25519`, also RSA/ECDSA): signed by `ssh-keygen -Y sign
  -n drills-manifest`, the SSHSIG format git uses, so an auditor can check a run without Drills
  (`ssh-keygen -Y verify`). Without ssh-keygen, an Ed25519 OpenSSH key is signed as below.
- a PEM (PKCS#8) Ed25519 private key (`openssl genpkey -algorithm ed25519`): a raw Ed25519
  signature of the manifest's bytes (the `cryptography` package).

The signature file sits next to the manifest and is not one of its artifacts (it cannot be: it
signs the manifest). A key protected by a passphrase is refused: a drill must not stop for a prompt.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drills.core.errors import HarnessError
from drills.records.jsonfile import read_object

SIGNATURE = "manifest.sig.json"
NAMESPACE = "drills-manifest"
KEY_ENV = "DRILLS_SIGN_KEY"
SIGNER_ENV = "DRILLS_SIGNER"
SSHSIG = "sshsig"
ED25519 = "ed25519"
_HINT = ("pass an unencrypted Ed25519 key: `ssh-keygen -t ed25519 -N '' -f drills-sign` (OpenSSH) or "
         "`openssl genpkey -algorithm ed25519 -out drills-sign.pem` (PEM)")


def fingerprint(public_line: str) -> str:
    """`SHA256:...` of an OpenSSH public key line, as `ssh-keygen -l` prints it."""
    blob = base64.b64decode(public_line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _key_blob(public_line: str) -> str:
    """The key type and base64 body of an OpenSSH public key line, its comment dropped."""
    parts = public_line.split()
    return f"{parts[0]} {parts[1]}"


def _openssh_public(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    raw: bytes = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return raw.decode()


def _default_identity() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Signer:
    """A private key read for signing. `algorithm`: sshsig or ed25519. `repr` never shows the key."""

    key_path: Path
    algorithm: str
    identity: str
    public_key: str  # OpenSSH public key line, without comment
    _private: Any = field(repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def describe(self) -> dict[str, str]:
        """Who signs, as the manifest's provenance records it (covered by the signature itself)."""
        return {"identity": self.identity, "algorithm": self.algorithm, "fingerprint": self.fingerprint,
                "public_key": self.public_key}

    def sign(self, manifest: bytes) -> dict[str, Any]:
        """The signature file's content for these manifest bytes."""
        if self.algorithm == SSHSIG:
            signature = _ssh_sign(self.key_path, manifest)
        else:
            signature = base64.b64encode(self._private.sign(manifest)).decode()
        return {"format": 1, "signs": "manifest.json", "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
                **self.describe(), **({"namespace": NAMESPACE} if self.algorithm == SSHSIG else {}),
                "signature": signature}


def load_signer(key_path: Path, signer: str | None = None) -> Signer:
    """Read a signing key, or say what to pass instead. The key's comment (OpenSSH) or `signer`
    names who signs; else $USER@host."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    try:
        data = key_path.read_bytes()
    except OSError as exc:
        raise HarnessError(f"cannot read the signing key {key_path}: {exc.strerror}", hint=_HINT) from None
    openssh = b"BEGIN OPENSSH PRIVATE KEY" in data
    try:
        private: Any = (serialization.load_ssh_private_key(data, password=None) if openssh
                        else serialization.load_pem_private_key(data, password=None))
    except TypeError:
        raise HarnessError(f"the signing key {key_path} is protected by a passphrase: a drill cannot stop to ask "
                           f"for it", hint=_HINT) from None
    except (ValueError, UnsupportedAlgorithm) as exc:  # its message is said, never the key's bytes
        raise HarnessError(f"{key_path} is not a private key Drills can sign with ({type(exc).__name__})",
                           hint=_HINT) from None
    public = _key_blob(_openssh_public(private.public_key()))
    ssh_keygen = shutil.which("ssh-keygen")
    if openssh and ssh_keygen:
        algorithm = SSHSIG
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        algorithm = ED25519
    else:
        raise HarnessError(f"{key_path} is not an Ed25519 key" + (
            "" if openssh else " (other PEM keys are not supported)") + (
            "; ssh-keygen, which signs other OpenSSH keys, is not installed" if openssh else ""), hint=_HINT)
    comment = _ssh_comment(key_path) if openssh else ""
    return Signer(key_path, algorithm, signer or comment or _default_identity(), public, private)


def _ssh_comment(key_path: Path) -> str:
    """The comment of the public key next to the private one (`KEY.pub`), if there is one."""
    pub = key_path.with_name(key_path.name + ".pub")
    try:
        parts = pub.read_text(encoding="utf-8").split(maxsplit=2)
    except (OSError, UnicodeDecodeError):
        return ""
    return parts[2].strip() if len(parts) == 3 else ""


def _ssh_sign(key_path: Path, manifest: bytes) -> str:
    with tempfile.TemporaryDirectory(prefix="drills-sign-") as tmp:
        message = Path(tmp) / "manifest.json"
        message.write_bytes(manifest)
        done = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", NAMESPACE, "-f", str(key_path), str(message)],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        sig = message.with_name(message.name + ".sig")
        if done.returncode != 0 or not sig.is_file():
            raise HarnessError(f"ssh-keygen -Y sign failed with {key_path}: {done.stderr.strip()[-300:]}", hint=_HINT)
        return sig.read_text(encoding="utf-8")


# ---- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trusted:
    """The public keys a verifier trusts (type and body; comments and principals ignored)."""

    keys: frozenset[str]
    sources: tuple[str, ...]

    def fingerprints(self) -> list[str]:
        return sorted(fingerprint(k) for k in self.keys)


def load_trusted(paths: list[Path]) -> Trusted:
    """Public keys from files: OpenSSH public key lines (`id_ed25519.pub`, `authorized_keys`,
    git's allowed_signers: principals and options before the key are skipped) or a PEM public key."""
    keys: set[str] = set()
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HarnessError(f"cannot read the trusted key file {path}: {exc}",
                               hint="pass --trust a public key file (e.g. drills-sign.pub)") from None
        found = _pem_public(text) if "BEGIN PUBLIC KEY" in text else _ssh_publics(text)
        if not found:
            raise HarnessError(f"no public key in {path}", hint="pass --trust a public key (an OpenSSH .pub line, "
                               "an allowed_signers file or a PEM public key); never the private key")
        keys |= found
    return Trusted(frozenset(keys), tuple(str(p) for p in paths))


def _ssh_publics(text: str) -> set[str]:
    found: set[str] = set()
    for line in text.splitlines():
        words = line.split()
        for i, word in enumerate(words[:-1]):
            if word.startswith(("ssh-", "ecdsa-", "sk-")) and _is_base64(words[i + 1]):
                found.add(f"{word} {words[i + 1]}")
                break
    return found


def _is_base64(word: str) -> bool:
    try:
        return len(base64.b64decode(word, validate=True)) > 16
    except ValueError:
        return False


def _pem_public(text: str) -> set[str]:
    from cryptography.hazmat.primitives import serialization

    try:
        return {_key_blob(_openssh_public(serialization.load_pem_public_key(text.encode())))}
    except (ValueError, TypeError):
        return set()


def read_signature(run_dir: Path) -> dict[str, Any] | None:
    return read_object(run_dir / SIGNATURE)


def check(run_dir: Path, manifest: bytes, trusted: Trusted) -> str | None:
    """None when `run_dir`'s signature file signs exactly `manifest` with a trusted key; else why not."""
    if not (run_dir / SIGNATURE).exists():
        return f"not signed: no {SIGNATURE} (sealed without --sign-key, or its signature was removed)"
    sig = read_signature(run_dir)
    if sig is None:
        return f"{SIGNATURE} is damaged (not readable)"
    algorithm, public = sig.get("algorithm"), str(sig.get("public_key") or "")
    if algorithm == SSHSIG:
        try:
            public = _sshsig_public(str(sig.get("signature") or ""))
        except ValueError:
            return f"{SIGNATURE}: the SSH signature is damaged (not readable)"
    if len(public.split()) < 2:
        return f"{SIGNATURE} names no public key"
    public = _key_blob(public)
    if public not in trusted.keys:
        return (f"signed by an untrusted key {fingerprint(public)} (signer {sig.get('identity')!r}"
                f"), not one passed to --trust")
    good = (_ssh_good(manifest, str(sig.get("signature"))) if algorithm == SSHSIG
            else _ed25519_good(public, manifest, str(sig.get("signature") or "")) if algorithm == ED25519
            else None)
    if good is None:
        return f"{SIGNATURE}: unknown signature algorithm {algorithm!r}"
    if not good:
        return f"bad signature: manifest.json is not what key {fingerprint(public)} signed"
    return None


def _ed25519_good(public: str, manifest: bytes, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = serialization.load_ssh_public_key(public.encode())
    if not isinstance(key, ed25519.Ed25519PublicKey):
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), manifest)
    except (InvalidSignature, ValueError):
        return False
    return True


def _sshsig_public(armored: str) -> str:
    """The public key an SSHSIG (armored) names: its key, checked by ssh-keygen below."""
    lines = [ln for ln in armored.strip().splitlines() if ln and not ln.startswith("-----")]
    blob = base64.b64decode("".join(lines), validate=True)
    if not blob.startswith(b"SSHSIG"):
        raise ValueError("not an SSHSIG")
    pos = 6 + 4  # magic, version
    size = int.from_bytes(blob[pos:pos + 4], "big")
    key = blob[pos + 4:pos + 4 + size]
    if len(key) != size or size < 8:
        raise ValueError("truncated")
    kind = key[4:4 + int.from_bytes(key[:4], "big")].decode()
    return f"{kind} {base64.b64encode(key).decode()}"


def _ssh_good(manifest: bytes, armored: str) -> bool:
    """ssh-keygen's check of an SSHSIG over `manifest` in the drills-manifest namespace (the key's
    trust is decided by the caller, from the key the signature carries)."""
    if not shutil.which("ssh-keygen"):
        raise HarnessError("the run is signed with an SSH key and ssh-keygen is not installed to check it",
                           hint="install OpenSSH's client (apt-get install openssh-client)")
    with tempfile.TemporaryDirectory(prefix="drills-verify-") as tmp:
        sig = Path(tmp) / "manifest.sig"
        sig.write_text(armored, encoding="utf-8")
        done = subprocess.run(["ssh-keygen", "-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(sig)],
                              input=manifest, capture_output=True, timeout=60)
    return done.returncode == 0


# ---- the commands' options ------------------------------------------------------------------------


def sign_options(command: Any) -> Any:
    """`--sign-key PATH` (or $DRILLS_SIGN_KEY) and `--signer NAME`, for every command that seals runs."""
    import click

    command = click.option(
        "--signer", "signer_name", default=None, envvar=SIGNER_ENV, show_envvar=True,
        help="Who signs, recorded with the signature [default: the OpenSSH key's comment, else $USER@host].",
    )(command)
    return click.option(
        "--sign-key", "sign_key", default=None, envvar=KEY_ENV, show_envvar=True,
        type=click.Path(path_type=Path, dir_okay=False),
        help="Sign every run's manifest with this private key (Ed25519 PEM, or an OpenSSH key signed by "
             "`ssh-keygen -Y sign`); `drill verify --trust` checks it. Never copied into the reports.",
    )(command)


def signer_of(sign_key: Path | None, signer_name: str | None) -> Signer | None:
    """The signer the options ask for, read before anything starts (a bad key is said at once)."""
    return load_signer(sign_key, signer_name) if sign_key is not None else None
