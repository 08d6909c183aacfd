/* The plaintext side of the tls check: SMTP and POP3 reply parsers and the
 * target syntax. Pure functions over byte buffers, fuzzed. */
#ifndef TLSPROTO_H
#define TLSPROTO_H

#include <stddef.h>

#define TLSPROTO_LINEMAX 4096	/* longest reply line accepted (RFC 5321: 512) */
#define TLSPROTO_MAXLINES 200	/* most lines in one reply */
#define TLSPROTO_TEXT 256	/* reply text kept for the log */

enum tlsproto {
	TLSPROTO_SMTP,		/* STARTTLS required */
	TLSPROTO_SUBMISSION,	/* STARTTLS required, AUTH only after TLS */
	TLSPROTO_SMTPS,		/* TLS on connect */
	TLSPROTO_POP3,		/* STLS required */
	TLSPROTO_POP3S
};

struct tls_target {
	enum tlsproto proto;
	char host[256];		/* an IPv4 or IPv6 address literal */
	unsigned port;
	char sni[256];		/* "" when not given */
};

/* Parses PROTO://HOST:PORT[/SNI-NAME] (HOST an address; [v6]:PORT; the
 * name a DNS name of at most 253 bytes).
 * 0, or -1 with *why a short reason. */
int tls_target_parse(const char *s, size_t len, struct tls_target *, const char **why);
/* The target as the log names it, PROTO://HOST:PORT[/SNI] ([v6]); the
 * length it needs (snprintf's). */
size_t tls_target_format(const struct tls_target *, char *buf, size_t size);
const char *tlsproto_name(enum tlsproto);
int tlsproto_is_smtp(enum tlsproto);
int tlsproto_is_implicit(enum tlsproto);

/* SMTP reply, fed one line at a time (without CRLF). */
struct smtp_reply {
	int code;		/* 200..599 once a line was accepted */
	unsigned lines;
	int complete;		/* the last line (4th byte a space) was seen */
	int starttls;		/* EHLO keyword STARTTLS seen */
	int auth;		/* EHLO keyword AUTH (or AUTH=) seen */
	size_t textlen;
	char text[TLSPROTO_TEXT];	/* the first line's text, for the log */
};

enum smtp_parse {
	SMTP_MORE,		/* a continuation line: feed the next one */
	SMTP_DONE,		/* the reply is complete: see code */
	SMTP_BAD		/* not an SMTP reply line (or too many lines) */
};

void smtp_reply_init(struct smtp_reply *);
enum smtp_parse smtp_reply_parse(struct smtp_reply *, const char *line, size_t len);

/* POP3 status line: 1 for +OK, 0 for -ERR, -1 for anything else. */
int pop3_status_parse(const char *line, size_t len);

/* A CAPA listing after its +OK, fed one line at a time until ".". */
struct pop3_capa {
	unsigned lines;
	int stls;		/* STLS capability */
	int auth;		/* SASL or USER: a login is offered */
};

enum pop3_capa_parse {
	POP3_CAPA_MORE,
	POP3_CAPA_DONE,		/* the terminating "." */
	POP3_CAPA_BAD		/* too many lines */
};

void pop3_capa_init(struct pop3_capa *);
enum pop3_capa_parse pop3_capa_parse(struct pop3_capa *, const char *line, size_t len);

#endif
