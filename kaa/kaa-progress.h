/* kaa-progress.h: progress carried by an InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
void      kaa_in_progress_set_progress           (KaaInProgress        *self,
                                                  gint64                position,
                                                  gint64                total);
KAA_AVAILABLE_IN_ALL
gboolean  kaa_in_progress_get_progress           (KaaInProgress        *self,
                                                  gint64               *position,
                                                  gint64               *total);
KAA_AVAILABLE_IN_ALL
gdouble   kaa_in_progress_get_fraction           (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gdouble   kaa_in_progress_get_rate               (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gdouble   kaa_in_progress_get_eta                (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gulong    kaa_in_progress_connect_progress       (KaaInProgress        *self,
                                                  KaaInProgressCallback callback,
                                                  gpointer              user_data,
                                                  GDestroyNotify        destroy);
KAA_AVAILABLE_IN_ALL
void      kaa_in_progress_disconnect_progress    (KaaInProgress        *self,
                                                  gulong                id);
KAA_AVAILABLE_IN_ALL
void      kaa_in_progress_set_progress_interval  (KaaInProgress        *self,
                                                  guint                 msec);

G_END_DECLS
