"""The one exception type the converter reports to users."""


class ConversionError(Exception):
    """A problem with the user's input or environment.

    The command line prints its message as a single ``error:`` line and exits
    with a non-zero status, without a traceback: the message itself must name
    the file and the problem.
    """
