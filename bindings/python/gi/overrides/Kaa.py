# PyGObject overrides for libkaa (issue #22), installed into
# gi/overrides next to PyGObject's own; `from gi.repository import Kaa`
# loads them.
#
# A Python exception other than GLib.Error raised in a callback that has
# a GError out-argument never reaches C: PyGObject prints it and returns
# NULL with no error, so a thread job that raised would finish with None
# as if it had succeeded. The functions that run Python code as a job or a
# main-thread call are wrapped here, so that such an exception fails the
# job's InProgress instead, with a G_IO_ERROR_FAILED GError carrying the
# exception's type and message. A GLib.Error passes through unchanged.
#
# Kaa.SignalArgs, the arguments of a signal emission that get_value()
# gives for kaa_in_progress_new_for_signal() and a signal stream's items,
# is a read-only Python sequence here: len(), [i] and unpacking.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import functools

from gi.repository import GLib, Gio

from ..module import get_introspection_module
from ..overrides import override

Kaa = get_introspection_module('Kaa')

__all__ = []


def _as_gerror(exception):
    message = f"{type(exception).__name__}: {exception}"
    return GLib.Error.new_literal(Gio.io_error_quark(), message, Gio.IOErrorEnum.FAILED)


def _failing_job(func):
    @functools.wraps(func)
    def job(thread_job, *user_data):
        try:
            return func(thread_job, *user_data)
        except GLib.Error:
            raise
        except Exception as exception:
            raise _as_gerror(exception) from exception
    return job


def _failing_call(func):
    @functools.wraps(func)
    def call(in_progress, *user_data):
        try:
            func(in_progress, *user_data)
        except Exception as exception:
            if not in_progress.is_done():
                if not isinstance(exception, GLib.Error):
                    exception = _as_gerror(exception)
                in_progress.fail(exception)
    return call


def thread_run(func, *user_data):
    return Kaa.thread_run(_failing_job(func), *user_data)


def main_thread_run(func, *user_data):
    return Kaa.main_thread_run(_failing_call(func), *user_data)


class ThreadPool(Kaa.ThreadPool):
    def run(self, priority, func, *user_data):
        return Kaa.ThreadPool.run(self, priority, _failing_job(func), *user_data)


ThreadPool = override(ThreadPool)


class SignalArgs(Kaa.SignalArgs):
    def __len__(self):
        return self.get_length()

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("signal argument index out of range")
        return self.get(index)

    def __iter__(self):
        return (self.get(i) for i in range(len(self)))

    def __repr__(self):
        return f"Kaa.SignalArgs{tuple(self)!r}"


SignalArgs = override(SignalArgs)
__all__ += ['thread_run', 'main_thread_run', 'ThreadPool', 'SignalArgs']
