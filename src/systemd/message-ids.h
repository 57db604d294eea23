/* message-ids.h — the journal MESSAGE_ID of each guard event (DESIGN.md
 * "Journal"), made once with `systemd-id128 new` and never changed: they
 * are how `journalctl MESSAGE_ID=...` finds an event and how `journalctl
 * -x` finds its explanation in units/gopls-guard.catalog, which has one
 * entry per id here (tests/unit/test-events.c checks both ways). */
#pragma once

#define GG_MESSAGE_START "6f203fd3c855483a98e3da330ed40f33"
#define GG_MESSAGE_OOM_KILL "2dbeb7e8e21142c78c38147f02f12673"
#define GG_MESSAGE_CRASH "39f2bcb816334164b96b7b9b72a6ce91"
#define GG_MESSAGE_RESTART "077b0dccb2864489b5bb6dba7f41f2fb"
#define GG_MESSAGE_PROACTIVE_RESTART "53732bee9f4d4fa99d2272eaf60693ea"
#define GG_MESSAGE_HANG "3e18d097a527499c8117116aadc07ba1"
#define GG_MESSAGE_GIVE_UP "4ec7aaa2d76a4d78822ea13e75f1b58e"
#define GG_MESSAGE_STOP "8e6ec42f12134c3a97d25b1b64716fb6"
