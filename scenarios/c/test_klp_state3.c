// SPDX-License-Identifier: GPL-2.0
/* klpsim's version of lib/livepatch/test_klp_state3.c: test_klp_state2.c as another cumulative patch. */
#include "test_klp_state2.c"
