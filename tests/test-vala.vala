/* A Vala program against kaa-1.vapi (issue #8): the VAPI's coroutine
 * calls, which Kaa-1.metadata brings back for Vala, a callback and a
 * combinator. Exits non-zero on any wrong result.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

static int
main ()
{
    var steps = new GLib.Array<int> ();
    var co = Kaa.Coroutine.spawn ((self) => {
        for (int i = 0; i < 3; i++) {
            try {
                /* await takes what it is given (owned); await_borrowed
                 * leaves the caller's reference alone. */
                if (i == 0) {
                    Kaa.await (Kaa.sleep (5));
                } else {
                    var nap = Kaa.sleep (5);
                    Kaa.await_borrowed (nap);
                    nap.propagate ();
                }
            } catch (GLib.Error e) {
                self.throw (e.copy ());
                return;
            }
            steps.append_val (i);
        }
        self.return_int64 (steps.length);
    });

    bool called = false;
    co.connect ((ip) => { called = true; });

    /* The combinators take their inputs (owned): Vala hands over
     * references of its own, so co and naps stay usable here. shield ()
     * takes its instance ([DestroysInstance]): Vala then gives up the
     * variable it is called on, so it is called on a reference of ours. */
    Kaa.InProgress[] naps = { co, Kaa.sleep (1) };
    var both = Kaa.all (naps);
    Kaa.InProgress given = co;
    var shielded = given.shield ();
    try {
        both.wait ();
        co.propagate ();
        shielded.wait ();
        naps[1].propagate ();
    } catch (GLib.Error e) {
        GLib.printerr ("failed: %s\n", e.message);
        return 1;
    }
    if (co.get_int64 () != 3 || !called || both.get_int64 () != 2 ||
        shielded.get_int64 () != 3) {
        GLib.printerr ("wrong results: %lld %d %lld\n",
                       co.get_int64 (), (int) called, both.get_int64 ());
        return 1;
    }
    print ("ok: a Vala coroutine awaited %lld sleeps\n", co.get_int64 ());
    return 0;
}
