"""Every failure the CLI expects, each with a one-line message and a fix-it hint.

``main`` prints ``error: <message>`` and ``hint: <hint>`` on stderr and exits 1;
anything that is not a ``SolregError`` is a bug and gets a traceback with --verbose.
"""

from __future__ import annotations


class SolregError(Exception):
    """Base class: ``str(exc)`` is the message, ``hint`` tells the user what to do."""

    default_hint: str | None = None

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint if hint is not None else self.default_hint


class ConfigError(SolregError):
    default_hint = "run `solreg login --url URL` to configure a registry"


class KeyFileError(SolregError):
    default_hint = "run `solreg keygen` to create a signing key"


class ManifestError(SolregError):
    default_hint = "run `solreg check` for a full report"


class GitError(SolregError):
    pass


class NotAGitRepository(GitError):
    default_hint = "publish from a git checkout: `git init`, commit, then tag the release"


class UntaggedRelease(GitError):
    default_hint = "tag the release commit, e.g. `git tag v<version>`"


class BuildError(SolregError):
    pass


class CheckFailed(SolregError):
    default_hint = "fix the errors listed above and run `solreg check` again"


class SbomBuildError(SolregError):
    """The package's SBOM cannot be generated, or the one it declares is not valid."""


class RegistryAnswerError(SolregError):
    """The registry answered with an error (or something we cannot use)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.field = field


class NetworkError(SolregError):
    default_hint = "check the registry URL and your network connection, then try again"


class VerificationError(SolregError):
    default_hint = "do not deploy this archive; download it again with `solreg download` and report it"
