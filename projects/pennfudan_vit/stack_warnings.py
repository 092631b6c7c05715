"""The stack's warnings and log notices that tell a user of this plugin nothing they could
act on, silenced one by one where they arise; every other warning still shows.

``pennfudan_vit/__init__.py`` imports this module (stdlib only), so a tool registers the
filters before it touches the stack; :func:`quiet_mmengine_notices` is applied to the
logger of each Runner the plugin builds (``engine.runner.build_runner``).
"""
import logging
import re
import warnings

# mmengine's Config looks up the `mmdet::` base configs through pkg_resources, which
# setuptools marks deprecated each time it is imported (mmengine re-imports it on every
# lookup). Harmless: the requirements keep setuptools below 81, where it still works.
PKG_RESOURCES = 'pkg_resources is deprecated as an API'

# mmengine's CheckpointHook always builds a FileClient (with a HardDiskBackend) that it
# does not use when no `file_client_args` are given, and each announces its own future
# deprecation. Harmless: checkpoints are written through mmengine's current file backend.
MMENGINE_NOTICES = ('"FileClient" will be deprecated in future',
                    '"HardDiskBackend" is the alias of "LocalBackend"')


def silence_stack_warnings() -> None:
    """Register the warning filters (done once on import; again after a caller, such as a
    test, restored the filters it found)."""
    # no `module=`: the re-imports are attributed to importlib, not to mmengine
    warnings.filterwarnings('ignore', message=re.escape(PKG_RESOURCES), category=UserWarning)


class _MmengineNotices(logging.Filter):
    """Drops the log records of :data:`MMENGINE_NOTICES`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(MMENGINE_NOTICES)


def quiet_mmengine_notices(logger: logging.Logger) -> None:
    """Keep :data:`MMENGINE_NOTICES` out of ``logger``'s console and file (once per logger)."""
    if not any(isinstance(f, _MmengineNotices) for f in logger.filters):
        logger.addFilter(_MmengineNotices())


silence_stack_warnings()
