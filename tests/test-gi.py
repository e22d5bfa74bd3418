#!/usr/bin/env python3
# The GObject Introspection binding, from Python (PyGObject), against the
# typelib of the build tree: futures, callbacks, combinators, a thread job
# and a main-thread call, cancel, pause and progress, all driven by a
# GLib main loop (DESIGN §2, §5, §6).
#
# tests/meson.build points GI_TYPELIB_PATH and LD_LIBRARY_PATH into the
# build directory. Exit status 77 (skip) when the build has no typelib:
# introspection disabled, or a sanitizer build, whose libkaa could not be
# loaded into an uninstrumented python without preloading the runtime.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import os
import sys
import threading
import time
import unittest

SKIP = 77

if os.environ.get("KAA_GI_SKIP"):
    print("skip:", os.environ["KAA_GI_SKIP"])
    sys.exit(SKIP)

try:
    import gi
    gi.require_version("Kaa", "1")
    from gi.repository import GLib, Gio, Kaa
except (ImportError, ValueError) as e:
    print("skip: no PyGObject or no Kaa typelib:", e)
    sys.exit(SKIP)

# Generous: the machine running the suite may be busy.
DEADLINE_MS = 10000


def run_until(ip, deadline_ms=DEADLINE_MS):
    """Runs a GLib main loop until ip settles; fails on the deadline."""
    loop = GLib.MainLoop()
    timed_out = []

    def on_deadline():
        timed_out.append(True)
        loop.quit()
        return GLib.SOURCE_REMOVE

    ip.connect(lambda _ip: loop.quit())
    if not ip.is_done():
        source = GLib.timeout_add(deadline_ms, on_deadline)
        loop.run()
        if not timed_out:
            GLib.source_remove(source)
    else:
        # A late connect is delivered on the next dispatch: let it run.
        loop.run()
    if timed_out:
        raise AssertionError(f"{ip.get_name()} did not settle in {deadline_ms} ms")


def spin(msec):
    """Runs the main loop for msec milliseconds."""
    loop = GLib.MainLoop()
    GLib.timeout_add(msec, lambda: (loop.quit(), GLib.SOURCE_REMOVE)[1])
    loop.run()


def assert_error(test, ip, domain, code):
    with test.assertRaises(GLib.Error) as raised:
        ip.propagate()
    test.assertTrue(raised.exception.matches(domain, code), raised.exception)


class Futures(unittest.TestCase):
    def test_finish_and_callback(self):
        ip = Kaa.InProgress.new()
        ip.set_name("answer")
        seen = []
        ip.connect(lambda done: seen.append((done.get_state(), done.get_int64())))
        self.assertEqual(ip.get_state(), Kaa.State.PENDING)
        ip.finish_int64(42)
        # Connected before the finish: called inside it, exactly once.
        self.assertEqual(seen, [(Kaa.State.FINISHED, 42)])
        self.assertTrue(ip.is_done())
        self.assertTrue(ip.propagate())
        self.assertEqual(ip.get_name(), "answer")

    def test_late_connect_runs_on_the_loop(self):
        ip = Kaa.InProgress.new()
        ip.finish_string("late")
        seen = []
        ip.connect(lambda done: seen.append(done.get_string()))
        self.assertEqual(seen, [], "a late connect ran inside connect()")
        run_until(ip)
        self.assertEqual(seen, ["late"])

    def test_disconnect(self):
        ip = Kaa.InProgress.new()
        seen = []
        handler = ip.connect(lambda done: seen.append(1))
        self.assertNotEqual(handler, 0)
        ip.disconnect(handler)
        ip.finish_boolean(True)
        self.assertEqual(seen, [])
        self.assertTrue(ip.get_boolean())

    def test_fail_with_gerror(self):
        ip = Kaa.InProgress.new()
        ip.fail(GLib.Error.new_literal(Gio.io_error_quark(), "no such thing",
                                       Gio.IOErrorEnum.NOT_FOUND))
        self.assertEqual(ip.get_state(), Kaa.State.FAILED)
        assert_error(self, ip, Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
        self.assertEqual(ip.get_error().message, "no such thing")

    def test_values(self):
        for value in (3.5, "text", True):
            ip = Kaa.InProgress.new()
            ip.finish_value(value)
            self.assertEqual(ip.get_value(), value)
        ip = Kaa.InProgress.new()
        obj = Gio.SimpleAction.new("thing", None)
        ip.finish_object(obj)
        self.assertIs(ip.get_object(), obj)
        self.assertIs(ip.dup_object(), obj)

    def test_finish_from_and_shield(self):
        source = Kaa.InProgress.new()
        follower = Kaa.InProgress.new()
        follower.finish_from(source)
        shield = source.shield()
        shield.cancel()
        self.assertEqual(shield.get_state(), Kaa.State.CANCELLED)
        self.assertFalse(source.is_done(), "cancel went through the shield")
        source.finish_double(0.25)
        run_until(follower)
        self.assertEqual(follower.get_double(), 0.25)


class Combinators(unittest.TestCase):
    def test_sleep(self):
        start = time.monotonic()
        ip = Kaa.sleep(30)
        run_until(ip)
        self.assertTrue(ip.propagate())
        self.assertGreaterEqual(time.monotonic() - start, 0.025)

    def test_any(self):
        slow = Kaa.sleep(DEADLINE_MS)
        first = Kaa.any([slow, Kaa.sleep(10)])
        run_until(first)
        self.assertEqual(first.get_int64(), 1)
        self.assertFalse(slow.is_done())
        slow.cancel()

    def test_all(self):
        both = Kaa.all([Kaa.sleep(10), Kaa.sleep(20)])
        run_until(both)
        self.assertEqual(both.get_int64(), 2)
        self.assertEqual(Kaa.all([]).get_int64(), 0)

    def test_timeout_cancels_input(self):
        too_long = Kaa.sleep(DEADLINE_MS)
        deadline = Kaa.timeout(too_long, 30, True)
        run_until(deadline)
        assert_error(self, deadline, Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
        self.assertEqual(too_long.get_state(), Kaa.State.CANCELLED)

    def test_scope(self):
        scope = Kaa.Scope.new(Kaa.ScopeFlags.FAIL_FAST)
        job = Kaa.sleep(10)
        scope.add(job)
        scope.add(Kaa.sleep(20))
        joined = scope.join()
        run_until(joined)
        self.assertEqual(joined.get_int64(), 2)
        self.assertTrue(job.is_done())

    def test_scope_deadline_and_cancel(self):
        scope = Kaa.Scope.new(Kaa.ScopeFlags.COLLECT_ALL)
        slow = Kaa.sleep(DEADLINE_MS)
        scope.add(slow)
        scope.set_timeout(30)
        joined = scope.join()
        run_until(joined)
        assert_error(self, joined, Gio.io_error_quark(), Gio.IOErrorEnum.TIMED_OUT)
        self.assertEqual(slow.get_state(), Kaa.State.CANCELLED)
        self.assertEqual(len(scope.dup_errors()), 0)

    def test_wait(self):
        ip = Kaa.sleep(10)
        self.assertTrue(ip.wait())

    def test_consumed_inputs_stay_usable(self):
        # DESIGN §2: the combinators, shield and finish_from take the
        # reference they are given; the annotations say (transfer full),
        # so PyGObject hands over a reference of its own and ours stays.
        for _ in range(50):
            a = Kaa.InProgress.new()
            b = Kaa.InProgress.new()
            follower = Kaa.InProgress.new()
            follower.finish_from(a)
            results = [Kaa.any([a, b]), Kaa.all([a, b]), Kaa.any_success([a, b]),
                       Kaa.all_success([a, b]), Kaa.timeout(a, DEADLINE_MS, False),
                       a.shield()]
            a.finish_int64(5)
            b.finish_int64(6)
            run_until(results[1])
            del results
            gc.collect()
            self.assertEqual((a.get_int64(), b.get_int64()), (5, 6))
            self.assertEqual(follower.get_int64(), 5)


class CancelAndPause(unittest.TestCase):
    def test_cancel(self):
        nap = Kaa.sleep(DEADLINE_MS)
        seen = []
        nap.connect(lambda done: seen.append(done.get_state()))
        nap.cancel()
        # On the owner thread cancel returns with the callbacks done.
        self.assertEqual(seen, [Kaa.State.CANCELLED])
        assert_error(self, nap, Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED)
        self.assertTrue(nap.get_cancellable().is_cancelled())

    def test_cancel_cascades_into_combinator(self):
        inner = Kaa.sleep(DEADLINE_MS)
        outer = Kaa.all([inner])
        outer.cancel()
        self.assertEqual(inner.get_state(), Kaa.State.CANCELLED)

    def test_pause_keeps_remaining_time(self):
        nap = Kaa.sleep(40)
        nap.pause()
        self.assertTrue(nap.is_paused())
        spin(150)
        self.assertFalse(nap.is_done(), "a paused sleep finished")
        nap.resume()
        self.assertFalse(nap.is_paused())
        run_until(nap)
        self.assertTrue(nap.propagate())


class Progress(unittest.TestCase):
    def test_progress_callback(self):
        ip = Kaa.InProgress.new()
        ip.set_progress_interval(0)
        seen = []
        ip.connect_progress(lambda p: seen.append(p.get_progress()))
        ip.set_progress(5, 10)
        spin(50)
        self.assertEqual(seen[-1], (True, 5, 10))
        self.assertAlmostEqual(ip.get_fraction(), 0.5)
        ip.finish_int64(10)


class WrapperResults(unittest.TestCase):
    # Issue #22: the GIO wrappers' results read through get_value() as
    # boxed GValues, not as a bare gpointer.
    def test_load_contents_is_bytes(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kaa-gi-{os.getpid()}")
        with open(path, "wb") as f:
            f.write(b"hello kaa")
        try:
            ip = Kaa.file_load_contents(Gio.File.new_for_path(path))
            run_until(ip)
            ip.propagate()
            value = ip.get_value()
            self.assertIsInstance(value, GLib.Bytes)
            self.assertEqual(value.get_data(), b"hello kaa")

            stream = Gio.MemoryInputStream.new_from_data(b"abcdef")
            ip = Kaa.input_stream_read_bytes(stream, 4)
            run_until(ip)
            self.assertEqual(ip.get_value().get_data(), b"abcd")
        finally:
            os.unlink(path)

    def test_file_read_and_query_info(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"kaa-gi-info-{os.getpid()}")
        with open(path, "wb") as f:
            f.write(b"12345")
        try:
            gfile = Gio.File.new_for_path(path)
            ip = Kaa.file_query_info(gfile, "standard::size", Gio.FileQueryInfoFlags.NONE)
            run_until(ip)
            self.assertEqual(ip.get_object().get_size(), 5)
            ip = Kaa.file_read(gfile)
            run_until(ip)
            self.assertEqual(ip.get_object().read_bytes(5, None).get_data(), b"12345")
        finally:
            os.unlink(path)

    def test_resolver_is_list_of_addresses(self):
        ip = Kaa.resolver_lookup_by_name(None, "localhost")
        run_until(ip)
        ip.propagate()
        addresses = ip.get_value()
        self.assertIsInstance(addresses, Gio.ListStore)
        self.assertGreater(addresses.get_n_items(), 0)
        self.assertTrue(all(isinstance(a, Gio.InetAddress) for a in addresses))
        self.assertTrue(any(a.get_is_loopback() for a in addresses))

    def test_communicate_is_string(self):
        proc = Gio.Subprocess.new(["echo", "from echo"], Gio.SubprocessFlags.STDOUT_PIPE)
        ip = Kaa.subprocess_communicate_utf8(proc, None)
        run_until(ip)
        self.assertEqual(ip.get_string(), "from echo\n")
        self.assertEqual(ip.get_value(), "from echo\n")

    def test_dbus_reply_is_variant(self):
        # Two ends of a socket pair, no bus: both authenticate
        # asynchronously while the loop runs.
        import socket
        a, b = socket.socketpair()
        ends = {}

        def made(name):
            def ready(_source, result):
                ends[name] = Gio.DBusConnection.new_finish(result)
            return ready

        server_socket = Gio.Socket.new_from_fd(a.detach())
        client_socket = Gio.Socket.new_from_fd(b.detach())
        Gio.DBusConnection.new(
            server_socket.connection_factory_create_connection(),
            Gio.dbus_generate_guid(),
            Gio.DBusConnectionFlags.AUTHENTICATION_SERVER
            | Gio.DBusConnectionFlags.AUTHENTICATION_ALLOW_ANONYMOUS,
            None, None, made("server"))
        Gio.DBusConnection.new(
            client_socket.connection_factory_create_connection(),
            None, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT,
            None, None, made("client"))
        context = GLib.MainContext.default()
        deadline = GLib.get_monotonic_time() + 10 * 1000000
        while len(ends) < 2 and GLib.get_monotonic_time() < deadline:
            context.iteration(True)
        self.assertEqual(len(ends), 2)

        node = Gio.DBusNodeInfo.new_for_xml(
            "<node><interface name='org.libkaa.Echo'><method name='Echo'>"
            "<arg type='s' direction='in'/><arg type='s' direction='out'/>"
            "</method></interface></node>")

        def on_call(_conn, _sender, _path, _iface, _method, params, invocation):
            invocation.return_value(GLib.Variant("(s)", (params.unpack()[0].upper(),)))

        ends["server"].register_object("/echo", node.interfaces[0], on_call)
        ip = Kaa.dbus_connection_call(ends["client"], None, "/echo", "org.libkaa.Echo",
                                      "Echo", GLib.Variant("(s)", ("kaa",)), None,
                                      Gio.DBusCallFlags.NONE, -1)
        run_until(ip)
        ip.propagate()
        reply = ip.get_value()
        self.assertIsInstance(reply, GLib.Variant)
        self.assertEqual(reply.unpack(), ("KAA",))
        ends["client"].close_sync(None)


class SignalArguments(unittest.TestCase):
    # Issue #22: a signal's arguments read through get_value() as a
    # Kaa.SignalArgs, which the overrides make a sequence of the
    # converted values, for a one-shot wait and a stream's items alike.
    def test_signal_wait(self):
        action = Gio.SimpleAction.new("go", GLib.VariantType.new("i"))
        ip = Kaa.InProgress.new_for_signal(action, "activate")
        action.activate(GLib.Variant.new_int32(7))
        run_until(ip)
        args = ip.get_value()
        self.assertIsInstance(args, Kaa.SignalArgs)
        self.assertEqual(len(args), 1)
        (parameter,) = args
        self.assertEqual(parameter.unpack(), 7)
        self.assertEqual(args[-1].unpack(), 7)
        with self.assertRaises(IndexError):
            args[1]

    def test_signal_wait_object_argument(self):
        action = Gio.SimpleAction.new("go", None)
        ip = Kaa.InProgress.new_for_signal(action, "notify::enabled")
        action.set_enabled(False)
        run_until(ip)
        (pspec,) = ip.get_value()
        self.assertEqual(pspec.name, "enabled")

    def test_signal_stream(self):
        action = Gio.SimpleAction.new("go", GLib.VariantType.new("i"))
        stream = Kaa.Channel.new_for_signal(action, "activate", 16, Kaa.Overflow.FAIL)
        for i in range(3):
            action.activate(GLib.Variant.new_int32(i))
        seen = []
        for _ in range(3):
            ip = stream.receive_value()
            run_until(ip)
            args = ip.get_value()
            self.assertIsInstance(args, Kaa.SignalArgs)
            seen.append(args[0].unpack())
        self.assertEqual(seen, [0, 1, 2])
        stream.close()


class Threads(unittest.TestCase):
    def test_thread_job(self):
        main = threading.get_ident()
        ran_on = []

        def job(job):
            ran_on.append(threading.get_ident())
            job.return_string("from the worker")
            return None

        ip = Kaa.thread_run(job)
        run_until(ip)
        self.assertEqual(ip.get_string(), "from the worker")
        self.assertEqual(len(ran_on), 1)
        self.assertNotEqual(ran_on[0], main)

    def test_thread_job_error(self):
        def job(job):
            raise GLib.Error.new_literal(Kaa.Error.quark(), "job failed",
                                         Kaa.Error.INVALID_ARGUMENT)

        ip = Kaa.thread_run(job)
        run_until(ip)
        assert_error(self, ip, Kaa.Error.quark(), Kaa.Error.INVALID_ARGUMENT)

    def test_thread_job_python_exception(self):
        # Not a GLib.Error: the overrides (bindings/python) turn it into
        # one, where PyGObject alone would finish the job with None.
        def job(job):
            raise ValueError("no such hash")

        ip = Kaa.thread_run(job)
        run_until(ip)
        assert_error(self, ip, Gio.io_error_quark(), Gio.IOErrorEnum.FAILED)
        with self.assertRaises(GLib.Error) as raised:
            ip.propagate()
        self.assertIn("ValueError: no such hash", raised.exception.message)

        pool = Kaa.ThreadPool.new("gi-exceptions", 1)
        ip = pool.run(0, lambda job, what: 1 / 0, "data")
        run_until(ip)
        with self.assertRaises(GLib.Error) as raised:
            ip.propagate()
        self.assertIn("ZeroDivisionError", raised.exception.message)
        pool.shutdown()

    def test_main_thread_call_python_exception(self):
        def on_main(call):
            raise KeyError("gone")

        call = Kaa.main_thread_run(on_main)
        run_until(call)
        with self.assertRaises(GLib.Error) as raised:
            call.propagate()
        self.assertIn("KeyError", raised.exception.message)

    def test_main_thread_call(self):
        main = threading.get_ident()

        def on_main(call):
            call.finish_int64(threading.get_ident())

        def job(job):
            call = Kaa.main_thread_run(on_main)
            call.wait()         # blocks this worker, not the main loop
            job.return_int64(call.get_int64())
            return None

        ip = Kaa.thread_run(job)
        run_until(ip)
        self.assertEqual(ip.get_int64(), main)

    def test_job_progress(self):
        def job(job):
            for i in range(1, 6):
                job.set_progress(i, 5)
            job.return_boolean(True)
            return None

        seen = []
        ip = Kaa.ThreadPool.get("gi-test").run(0, job)
        ip.set_progress_interval(0)
        ip.connect_progress(lambda p: seen.append(p.get_progress()))
        run_until(ip)
        self.assertTrue(ip.get_boolean())
        self.assertEqual(ip.get_progress(), (True, 5, 5))

    def test_cancel_and_pause_a_running_job(self):
        started = threading.Event()
        stopped = threading.Event()
        count = [0]

        def job(job):
            started.set()
            while job.check():
                count[0] += 1
                time.sleep(0.005)
            stopped.set()
            return None

        ip = Kaa.thread_run(job)
        self.assertTrue(started.wait(DEADLINE_MS / 1000))
        ip.pause()
        spin(50)                # the job reaches its next check and waits
        frozen = count[0]
        spin(100)
        self.assertLessEqual(count[0], frozen + 1, "a paused job kept running")
        ip.resume()
        deadline = time.monotonic() + DEADLINE_MS / 1000
        while count[0] <= frozen + 1 and time.monotonic() < deadline:
            spin(10)
        self.assertGreater(count[0], frozen + 1, "a resumed job did not go on")
        ip.cancel()
        self.assertEqual(ip.get_state(), Kaa.State.CANCELLED)
        self.assertTrue(stopped.wait(DEADLINE_MS / 1000), "check() did not fail")


class Coiterate(unittest.TestCase):
    def test_python_steps(self):
        # The bindable form of a time-sliced coroutine: each step runs to
        # completion on the main loop's stack.
        steps = []

        def step(ip):
            steps.append(len(steps))
            if len(steps) == 3:
                ip.finish_int64(sum(steps))
                return False
            return True

        ip = Kaa.coiterate(step)
        run_until(ip)
        self.assertEqual(steps, [0, 1, 2])
        self.assertEqual(ip.get_int64(), 3)

    def test_cancel_stops_steps(self):
        steps = []
        ip = Kaa.coiterate(lambda _ip: steps.append(1) or True)
        spin(30)
        ip.cancel()
        ran = len(steps)
        self.assertGreater(ran, 0)
        spin(30)
        self.assertEqual(len(steps), ran)


class Channels(unittest.TestCase):
    def test_channel_of_values(self):
        channel = Kaa.Channel.new_for_values(1)
        received = channel.receive_value()
        self.assertFalse(received.is_done())
        sent = channel.send_value("ball")
        run_until(received)
        self.assertEqual(received.get_value(), "ball")
        self.assertTrue(sent.get_boolean())

    def test_channel_close_and_cancel(self):
        channel = Kaa.Channel.new_for_values(4)
        waiting = channel.receive_value()
        waiting.cancel()            # takes no item
        channel.send_value(7)
        channel.close()
        self.assertEqual(channel.get_length(), 1)
        first = channel.receive_value()
        run_until(first)
        self.assertEqual(first.get_value(), 7)
        end = channel.receive_value()
        run_until(end)
        assert_error(self, end, Kaa.error_quark(), Kaa.Error.CLOSED)
class Limits(unittest.TestCase):
    # Issue #18 section 3: what bindings can call of KaaSemaphore and
    # KaaMutex (the await forms and their guards are C only), and the
    # combinators' KaaCombineFlags.
    def test_semaphore(self):
        sem = Kaa.Semaphore.new(2)
        sem.set_name("downloads")
        self.assertEqual(sem.dup_name(), "downloads")
        first, second, third = sem.acquire(), sem.acquire(), sem.acquire()
        self.assertTrue(first.get_boolean())
        self.assertTrue(second.get_boolean())
        self.assertFalse(third.is_done())
        self.assertEqual((sem.get_available(), sem.get_n_waiting()), (0, 1))
        self.assertFalse(sem.try_acquire())
        sem.release()
        run_until(third)
        self.assertTrue(third.get_boolean())
        sem.release()
        sem.release()
        self.assertEqual(sem.get_available(), sem.get_permits())

    def test_cancelled_waiter_holds_nothing(self):
        sem = Kaa.Semaphore.new(1)
        self.assertTrue(sem.acquire_wait(None))
        waiter = sem.acquire()
        waiter.cancel()
        self.assertEqual(waiter.get_state(), Kaa.State.CANCELLED)
        cancelled = Gio.Cancellable()
        cancelled.cancel()
        with self.assertRaises(GLib.Error) as raised:
            sem.acquire_wait(cancelled)
        self.assertTrue(raised.exception.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED))
        sem.release()
        self.assertEqual(sem.get_available(), 1)

    def test_mutex(self):
        mutex = Kaa.Mutex.new()
        locked = mutex.lock()
        self.assertTrue(locked.get_boolean())
        self.assertTrue(mutex.is_locked())
        self.assertFalse(mutex.try_lock())
        mutex.unlock()
        self.assertFalse(mutex.is_locked())
        self.assertTrue(mutex.try_lock())
        mutex.unlock()

    def test_any_cancels_losers(self):
        slow = Kaa.sleep(DEADLINE_MS)
        first = Kaa.any_with_flags([slow, Kaa.sleep(10)], Kaa.CombineFlags.CANCEL_OTHERS)
        run_until(first)
        self.assertEqual(first.get_int64(), 1)
        self.assertEqual(slow.get_state(), Kaa.State.CANCELLED)

    def test_all_success_cancels_rest(self):
        slow = Kaa.sleep(DEADLINE_MS)
        failing = Kaa.InProgress.new()
        both = Kaa.all_success_with_flags([slow, failing], Kaa.CombineFlags.CANCEL_OTHERS)
        failing.fail_literal(Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND, "gone")
        run_until(both)
        assert_error(self, both, Gio.io_error_quark(), Gio.IOErrorEnum.NOT_FOUND)
        self.assertEqual(slow.get_state(), Kaa.State.CANCELLED)

    def test_dump(self):
        # Issue 19: the dump, from a binding: the text and the variant
        # describe the same InProgresses.
        text = Kaa.dump_to_string()
        self.assertTrue(text.startswith("libkaa dump: "))
        dump = Kaa.dump_to_variant()
        self.assertEqual(dump.get_type_string(), "aa{sv}")
        self.assertEqual(len(dump.unpack()), int(text.split()[2]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
