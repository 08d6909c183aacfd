/* kmsg: crashes of qmail programs in the kernel log (/dev/kmsg).
 *
 * Pure parts (no I/O, fuzzed): the record parser, the crash classifier,
 * the program matcher and the cursor codec. The check (check_kmsg) reads
 * /dev/kmsg from a persistent cursor and emits the findings; the crashes it
 * reads also go to crashlog.h, where other checks (svc) find them. */
#ifndef KMSG_H
#define KMSG_H

#include <stddef.h>

#include "check.h"

#define KMSG_COMM 16		/* the kernel's TASK_COMM_LEN: 15 bytes and NUL */
#define KMSG_NAME 256		/* a file name from " in FILE[" */
#define KMSG_HEX 24		/* "0x" and 16 hex digits, NUL */
#define KMSG_BOOTID 37		/* 36 bytes of /proc/sys/kernel/random/boot_id, NUL */

/* One /dev/kmsg record: "PRIO,SEQ,USEC,FLAGS[,...];TEXT\n[ KEY=VALUE\n]..." */
struct kmsg_record {
	unsigned prio;			/* facility * 8 + level */
	unsigned long long seq;
	unsigned long long usec;	/* since boot */
	const char *text;		/* inside the parsed buffer, not NUL-terminated */
	size_t len;
};

/* 0 parsed, -1 not a record. */
int kmsg_parse_record(const char *buf, size_t len, struct kmsg_record *);

enum kmsg_kind {
	KMSG_OTHER,		/* nothing we look for */
	KMSG_CRASH,		/* a user-space program died by a signal */
	KMSG_IGNORED,		/* looks like a crash but is not (trap int3) */
	KMSG_OOM,		/* the OOM killer killed a process */
	KMSG_SUPPRESSED,	/* show_signal_msg: N callbacks suppressed */
	KMSG_REGS		/* "CPU: N ... PID: N Comm: X": names a fatal-signal dump */
};

struct kmsg_event {
	enum kmsg_kind kind;
	char comm[KMSG_COMM];	/* the task's comm, cut at 15 bytes; "" unknown */
	char file[KMSG_NAME];	/* " in FILE[" or the executable; "" unknown */
	long pid;		/* -1 unknown */
	int signal;		/* 0 unknown */
	char addr[KMSG_HEX];	/* "0x14"; "" when not printed */
	char ip[KMSG_HEX];
	char error[KMSG_HEX];	/* as the kernel printed it */
	char trap[32];		/* "divide error" ...; "" for segfaults */
	unsigned long count;	/* KMSG_SUPPRESSED */
};

/* Classifies the text of one kernel record (not NUL-terminated). */
enum kmsg_kind kmsg_classify(const char *text, size_t len, struct kmsg_event *);

/* "SIGSEGV" for 11 ...; "SIG" and the number for others; "unknown" for 0. */
const char *kmsg_signame(int sig, char *buf, size_t size);

/* Is a program watched? progs: a MAINTD_KMSG_PROGS value (names, "prefix*").
 * comm may be cut at 15 bytes; file is matched whole. On a match the program's
 * name (the file when comm is its cut, else comm) goes to prog: 1; else 0. */
int kmsg_prog_match(const char *progs, const char *comm, const char *file,
    char *prog, size_t size);
/* 0 if a MAINTD_KMSG_PROGS value is valid; else -1 and a reason. */
int kmsg_progs_valid(const char *progs, const char **reason);

/* The persistent cursor: the boot and the next sequence number to read. */
struct kmsg_cursor {
	char bootid[KMSG_BOOTID];
	unsigned long long next;
};

/* "BOOTID NEXT\n". 0 parsed, -1 corrupt. */
int kmsg_cursor_parse(const char *buf, size_t len, struct kmsg_cursor *);
size_t kmsg_cursor_format(const struct kmsg_cursor *, char *buf, size_t size);

/* A crash (or OOM kill) of a watched program that a run read, kept with the
 * cursor in the state file: later runs (also -1 runs, each a new process)
 * count crash loops from it and, while it is within MAINTD_KMSG_HOLD,
 * report it again as active. */
#define KMSG_SERVICE 256
#define KMSG_KEEP 1024		/* crashes kept, the newest */

struct kmsg_crash {
	long long at;			/* Unix seconds: the boot time + usec */
	unsigned long long usec;	/* the record's, since boot */
	unsigned long long seq;
	long pid;			/* -1 unknown */
	int signal;
	int oom;			/* an OOM kill, not a crash */
	int reported;			/* logged as a crash line (not backlog) */
	char prog[KMSG_NAME];
	char addr[KMSG_HEX], ip[KMSG_HEX], error[KMSG_HEX];	/* "" when not printed */
	char file[KMSG_NAME];
	char service[KMSG_SERVICE];	/* "" none */
};

/* The state file kmsg.cursor: the cursor line, then one line per crash:
 *	crash|oom AT USEC SEQ PID SIGNAL REPORTED PROG ADDR IP ERROR FILE SERVICE
 * (PID -1 unknown; the strings with bytes up to space, from DEL on, and '%'
 * written %XX, "-" for an empty one). Parses it all: 0, or -1 when any line
 * is corrupt; fn gets each crash (its non-zero return stops: -1). */
int kmsg_state_parse(const char *buf, size_t len, struct kmsg_cursor *,
    int (*fn)(const struct kmsg_crash *, void *), void *arg);
/* One crash line; its length, or 0 when it does not fit. */
size_t kmsg_crash_format(const struct kmsg_crash *, char *buf, size_t size);

/* Where reading stands: records before next are done. known: next is what
 * the following record should be (a cursor of this boot, or 0 after a reboot). */
struct kmsg_seq {
	unsigned long long next;
	int known;
};

/* A record's seq: -1 when already done (skip it), else how many records
 * were lost (overwritten unread) before it. */
long long kmsg_seq_step(struct kmsg_seq *, unsigned long long seq);

/* Tests: the following runs read these records (one per read; "EPIPE" fails
 * like an overwritten record) instead of the device; NULL: the device. */
void kmsg_test_source(const char *const *records, unsigned n);

extern const struct check check_kmsg;

#endif
