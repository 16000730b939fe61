"""The package's error type: a message for the user, shown by the CLI as one line."""


class AlexNetError(Exception):
    """A problem with the user's input (a file, a folder, a parameter) that the message names."""
