/* kaa-outcome-private.h: what an operation ends with, a value or an
 * error (layer 3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One type for the three places that hold an outcome: an InProgress once
 * it settled (kaa-in-progress*.c), a coroutine's body while it runs
 * (kaa_coroutine_return_*(), kaa_coroutine_throw()) and a thread job's
 * function (kaa_thread_job_return_*()). The last two hand theirs over
 * whole with kaa_in_progress_settle_outcome(), which moves it.
 *
 * libdex keeps every result as a GValue and a GError; here the scalars
 * sit inline instead, so that finishing and reading a boolean, an
 * integer or a double allocates nothing and costs a few stores, and a
 * value becomes a GValue only when a binding asks for one
 * (kaa_outcome_to_value()). An outcome is plain memory owned by whoever
 * embeds it; it has no lock of its own.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  KAA_OUTCOME_NONE,     /* nothing yet: settles as a NULL pointer */
  KAA_OUTCOME_POINTER,  /* v_pointer, any pointer */
  KAA_OUTCOME_BOOLEAN,  /* v_boolean, TRUE or FALSE */
  KAA_OUTCOME_INT64,    /* v_int64 */
  KAA_OUTCOME_DOUBLE,   /* v_double */
  KAA_OUTCOME_STRING,   /* v_pointer, a char * or NULL */
  KAA_OUTCOME_OBJECT,   /* v_pointer, a GObject * or NULL */
  KAA_OUTCOME_VALUE,    /* v_pointer, a GValue * */
  KAA_OUTCOME_FORWARD,  /* v_pointer, the KaaInProgress whose result it is */
  KAA_OUTCOME_ERROR,    /* v_error */
} KaaOutcomeKind;

typedef struct
{
  KaaOutcomeKind kind;
  union
  {
    gpointer     v_pointer;
    GError      *v_error;
    gboolean     v_boolean;
    gint64       v_int64;
    gdouble      v_double;
  } v;
  /* Frees v_pointer (or v_error) when the outcome is cleared; NULL for
   * the scalars and for a pointer nobody frees. For a pointer it also
   * tells its type (kaa_outcome_to_value()). */
  GDestroyNotify destroy;
} KaaOutcome;

#define KAA_OUTCOME_INIT { KAA_OUTCOME_NONE, { NULL }, NULL }

/* Frees what @self holds and leaves it empty. */
static inline void
kaa_outcome_clear (KaaOutcome *self)
{
  if (self->destroy != NULL)
    self->destroy (self->v.v_pointer);
  self->kind = KAA_OUTCOME_NONE;
  self->v.v_pointer = NULL;
  self->destroy = NULL;
}

/* Moves what @src holds into @dest, which is empty; @src is left empty. */
static inline void
kaa_outcome_move (KaaOutcome *dest,
                  KaaOutcome *src)
{
  *dest = *src;
  src->kind = KAA_OUTCOME_NONE;
  src->v.v_pointer = NULL;
  src->destroy = NULL;
}

/* The setters fill an empty @self (clear it first to replace what it
 * holds); each takes or copies its argument as its name says. */
static inline void
kaa_outcome_set_boolean (KaaOutcome *self,
                         gboolean    value)
{
  self->kind = KAA_OUTCOME_BOOLEAN;
  self->v.v_boolean = !!value;
}

static inline void
kaa_outcome_set_int64 (KaaOutcome *self,
                       gint64      value)
{
  self->kind = KAA_OUTCOME_INT64;
  self->v.v_int64 = value;
}

static inline void
kaa_outcome_set_double (KaaOutcome *self,
                        gdouble     value)
{
  self->kind = KAA_OUTCOME_DOUBLE;
  self->v.v_double = value;
}

/* @kind is one of the pointer kinds, @pointer its pointer (owned, with
 * @destroy, which may be NULL). */
static inline void
kaa_outcome_take_pointer (KaaOutcome     *self,
                          KaaOutcomeKind  kind,
                          gpointer        pointer,
                          GDestroyNotify  destroy)
{
  self->kind = kind;
  self->v.v_pointer = pointer;
  self->destroy = destroy;
}

static inline void
kaa_outcome_take_error (KaaOutcome *self,
                        GError     *error)
{
  kaa_outcome_take_pointer (self, KAA_OUTCOME_ERROR, error, (GDestroyNotify) g_error_free);
}

/* The error @self holds, or NULL if it holds a value or nothing. */
static inline GError *
kaa_outcome_get_error (const KaaOutcome *self)
{
  return self->kind == KAA_OUTCOME_ERROR ? self->v.v_error : NULL;
}

/* A copy of @value (nullable). */
void        kaa_outcome_set_string (KaaOutcome       *self,
                                    const char       *value);
/* A new reference to @object (nullable). */
void        kaa_outcome_set_object (KaaOutcome       *self,
                                    gpointer          object);
/* A copy of @value, or @value itself (allocated with g_new0()). */
void        kaa_outcome_set_value  (KaaOutcome       *self,
                                    const GValue     *value);
void        kaa_outcome_take_value (KaaOutcome       *self,
                                    GValue           *value);

/* The form bindings read: @value (uninitialized) gets a copy of what
 * @self holds, as kaa_in_progress_get_value() documents; an empty
 * outcome, an error or a forward give a NULL G_TYPE_POINTER. */
void        kaa_outcome_to_value   (const KaaOutcome *self,
                                    GValue           *value);
/* The name of a kind in messages: the suffix of the finish function
 * that stores it ("int64"), "none" for the others. */
const char *kaa_outcome_kind_name  (KaaOutcomeKind    kind);

G_END_DECLS
