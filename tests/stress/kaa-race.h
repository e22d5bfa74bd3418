/* kaa-race.h: eight threads racing over a shared pool of InProgresses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The harness behind /kaa/in-progress-threads/race (kaa-race.c says what
 * it races and checks).
 */
#pragma once

#include <kaa/kaa.h>

G_BEGIN_DECLS

void kaa_race_run (GMainContext *context);

G_END_DECLS
