/* kaa-tsan-glib.c: makes GLib's locks visible to ThreadSanitizer.
 *
 * Linked into the test programs only when they are built with
 * -fsanitize=thread (tests/meson.build).  On Linux GMutex, GCond and
 * g_once_init_*() are built on futexes inside libglib, which is
 * not instrumented, so TSan sees no happens-before edge through them and
 * reports every access that they protect as a race.
 *
 * (GRecMutex and GRWLock are pthread-based and need no help, but for
 * the lazy allocation of the pthread lock: see tsan.supp.)
 *
 * The functions below have GLib's names and signatures.  A call from the
 * test program or from libkaa (linked statically into it) binds to them;
 * they tell TSan what the lock does (the __tsan_mutex_* annotations of
 * <sanitizer/tsan_interface.h>, and __tsan_acquire/__tsan_release for
 * condition variables and one-time initialisation) and forward to the real
 * function, found with dlsym (RTLD_NEXT). GObject classes are made
 * before main(), see the end of this file.  libglib calls its own functions
 * directly (-Bsymbolic-functions), so its internal locking stays unseen:
 * a hand-over that happens wholly inside libglib (GAsyncQueue's list
 * nodes, say) still looks like a race, and the place for such a report is
 * tests/tsan.supp, never a suppression of libkaa's own code.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>
#include <sanitizer/tsan_interface.h>

/* The real function NAME, looked up once.  The cache is written with a
 * release store so that TSan (and the compiler) see a clean publication;
 * two threads racing to fill it store the same value. */
#define REAL(type, name, args)                                              \
  static type (*real_##name) args;                                          \
  static type (*get_real_##name (void)) args                                \
  {                                                                         \
    type (*fn) args = __atomic_load_n (&real_##name, __ATOMIC_ACQUIRE);     \
    if (fn == NULL)                                                         \
      {                                                                     \
        fn = (type (*) args) dlsym (RTLD_NEXT, #name);                      \
        if (fn == NULL)                                                     \
          {                                                                 \
            fprintf (stderr, "kaa-tsan-glib: no %s in libglib\n", #name);   \
            abort ();                                                       \
          }                                                                 \
        __atomic_store_n (&real_##name, fn, __ATOMIC_RELEASE);              \
      }                                                                     \
    return fn;                                                              \
  }

REAL (void, g_mutex_init, (GMutex *))
REAL (void, g_mutex_clear, (GMutex *))
REAL (void, g_mutex_lock, (GMutex *))
REAL (gboolean, g_mutex_trylock, (GMutex *))
REAL (void, g_mutex_unlock, (GMutex *))
REAL (void, g_cond_signal, (GCond *))
REAL (void, g_cond_broadcast, (GCond *))
REAL (void, g_cond_wait, (GCond *, GMutex *))
REAL (gboolean, g_cond_wait_until, (GCond *, GMutex *, gint64))
REAL (gboolean, g_once_init_enter, (volatile void *))
REAL (void, g_once_init_leave, (volatile void *, gsize))

/* GMutex.  A zero-filled GMutex needs no g_mutex_init(), and TSan creates
 * its state on first use too, so init only resets it for reuse. */

void
g_mutex_init (GMutex *mutex)
{
  get_real_g_mutex_init () (mutex);
  __tsan_mutex_create (mutex, 0);
}

void
g_mutex_clear (GMutex *mutex)
{
  __tsan_mutex_destroy (mutex, 0);
  get_real_g_mutex_clear () (mutex);
}

void
g_mutex_lock (GMutex *mutex)
{
  __tsan_mutex_pre_lock (mutex, 0);
  get_real_g_mutex_lock () (mutex);
  __tsan_mutex_post_lock (mutex, 0, 0);
}

gboolean
g_mutex_trylock (GMutex *mutex)
{
  gboolean locked;

  __tsan_mutex_pre_lock (mutex, __tsan_mutex_try_lock);
  locked = get_real_g_mutex_trylock () (mutex);
  __tsan_mutex_post_lock (mutex, __tsan_mutex_try_lock
                          | (locked ? 0 : __tsan_mutex_try_lock_failed), 0);
  return locked;
}

void
g_mutex_unlock (GMutex *mutex)
{
  __tsan_mutex_pre_unlock (mutex, 0);
  get_real_g_mutex_unlock () (mutex);
  __tsan_mutex_post_unlock (mutex, 0);
}

/* GRecMutex and GRWLock need nothing: GLib builds them on pthread
 * mutexes and rwlocks, whose calls TSan intercepts even from libglib.
 * Only their lazily allocated pthread object is published invisibly
 * (tsan.supp). */

/* GCond.  Waiting releases the mutex and takes it back; a signal is a
 * release on the condition and the end of a wait an acquire, so that a
 * waiter also sees what a signaller did without holding the mutex. */

void
g_cond_signal (GCond *cond)
{
  __tsan_release (cond);
  get_real_g_cond_signal () (cond);
}

void
g_cond_broadcast (GCond *cond)
{
  __tsan_release (cond);
  get_real_g_cond_broadcast () (cond);
}

void
g_cond_wait (GCond  *cond,
             GMutex *mutex)
{
  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  get_real_g_cond_wait () (cond, mutex);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
  __tsan_acquire (cond);
}

gboolean
g_cond_wait_until (GCond  *cond,
                   GMutex *mutex,
                   gint64  end_time)
{
  gboolean signalled;

  __tsan_mutex_pre_unlock (mutex, 0);
  __tsan_mutex_post_unlock (mutex, 0);
  signalled = get_real_g_cond_wait_until () (cond, mutex, end_time);
  __tsan_mutex_pre_lock (mutex, 0);
  __tsan_mutex_post_lock (mutex, 0, 0);
  __tsan_acquire (cond);
  return signalled;
}

/* g_once_init_enter() is a macro: an atomic load of *location, compiled
 * into the caller and so seen by TSan, then the function when it read 0.
 * The release below pairs with that load (TSan keys both on the address)
 * and with the acquire after the function, for a thread that waited for
 * another to finish the initialisation. */

#undef g_once_init_enter
#undef g_once_init_leave

gboolean
g_once_init_enter (volatile void *location)
{
  gboolean initialise = get_real_g_once_init_enter () (location);

  if (!initialise)
    __tsan_acquire ((void *) location);
  return initialise;
}

void
g_once_init_leave (volatile void *location,
                   gsize          result)
{
  __tsan_release ((void *) location);
  get_real_g_once_init_leave () (location, result);
}

/* g_main_context_invoke() from a thread that does not own the context
 * attaches an idle source under the context's lock, inside libglib, and
 * the owner runs it: a hand-over that TSan sees only when the owner
 * happens to read the context's eventfd first.  The callback runs through
 * a trampoline that acquires what the caller released. */

REAL (void, g_main_context_invoke_full,
      (GMainContext *, gint, GSourceFunc, gpointer, GDestroyNotify))

typedef struct
{
  GSourceFunc    function;
  gpointer       data;
  GDestroyNotify notify;
} Invoke;

static gboolean
invoke_dispatch (gpointer user_data)
{
  Invoke *invoke = user_data;

  __tsan_acquire (invoke);
  return invoke->function (invoke->data);
}

static void
invoke_free (gpointer user_data)
{
  Invoke *invoke = user_data;

  __tsan_acquire (invoke);
  if (invoke->notify != NULL)
    invoke->notify (invoke->data);
  g_free (invoke);
}

void
g_main_context_invoke_full (GMainContext   *context,
                            gint            priority,
                            GSourceFunc     function,
                            gpointer        data,
                            GDestroyNotify  notify)
{
  Invoke *invoke = g_new (Invoke, 1);

  invoke->function = function;
  invoke->data = data;
  invoke->notify = notify;
  __tsan_release (invoke);
  get_real_g_main_context_invoke_full () (context, priority, invoke_dispatch,
                                          invoke, invoke_free);
}

/* libglib's own g_main_context_invoke() calls the real _full directly. */
void
g_main_context_invoke (GMainContext *context,
                       GSourceFunc   function,
                       gpointer      data)
{
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, function, data, NULL);
}

/* GObject classes.  GObject publishes a class to the threads that did not
 * make it with an atomic inside libgobject, which TSan does not see, and
 * no call libgobject makes to itself can be interposed here.  Thread-pool
 * jobs make GCancellables, so the first two jobs of a program to make one
 * seemed to race on the class the first of them made (semaphore-threads:
 * 3 failures in 150 runs under load).  Made before main(), the class is
 * ordered before every thread; a class lives as long as the program.
 * Looked up, as the real functions above are: a program built on GLib
 * alone (test-tsan) has no GIO. */
__attribute__ ((constructor)) static void
tsan_make_classes (void)
{
  gsize (*cancellable_get_type) (void) = (gsize (*) (void)) dlsym (RTLD_DEFAULT,
                                                                   "g_cancellable_get_type");
  gpointer (*class_ref) (gsize) = (gpointer (*) (gsize)) dlsym (RTLD_DEFAULT, "g_type_class_ref");

  if (cancellable_get_type != NULL && class_ref != NULL)
    class_ref (cancellable_get_type ());
}
