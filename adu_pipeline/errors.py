"""Errors every part raises for bad input, so the CLI can print one clear line and exit 2."""


class AduError(Exception):
    """A problem the user can fix; the message must never carry a raw PII value or a secret."""

    exit_code = 2


class InputError(AduError):
    """An input file, argument or configuration value is missing, unreadable or malformed."""
