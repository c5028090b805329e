/*
 * ttyq: the queue a pty's slave has to read (what was typed and not read
 * yet), put there again through the master so that it is what the line
 * discipline held, once: for ckpt, which must put back what it read, and
 * for restore, which fills a new pty. See ttyq.c for how.
 */
#ifndef CKPT_TTYQ_H
#define CKPT_TTYQ_H

#include <stddef.h>
#include <termios.h>

#define TTYQ_MAX	4096	/* N_TTY_BUF_SIZE: no line discipline holds
				 * more */

/*
 * Queue len bytes of buf for the slave of master m to read, as they are:
 * no echo, no signal, no editing, no input translation. In canonical mode
 * (tio, the pair's termios, has ICANON) a line ends at '\n', VEOL or
 * VEOL2 as it did, and a VEOF byte ends a line of its own without being
 * read; bytes after the last end are the line being typed. The pair's
 * termios is tio again on return, success or not. The caller checks that
 * no byte of a line but its last is an end (ttyq_is_end).
 */
int ttyq_push_input(int m, const struct termios *tio, const void *buf,
		    size_t len) __attribute__((warn_unused_result));

/* Does c end a line in canonical mode under tio ('\n', VEOL, VEOL2)? */
/*
 * ttyq_push_input through master m with the slave's output column at
 * `from` before and `col` after, and the line being typed begun at
 * `canon` (both kept by N_TTY, set by what is written through the slave:
 * util/ttyq.c). The master's read queue must be empty.
 */
int ttyq_push_columns(int m, const struct termios *tio, const void *buf,
		      size_t len, unsigned int from, unsigned int canon,
		      unsigned int col);

int ttyq_is_end(const struct termios *tio, unsigned char c);
/* Is c tio's VEOF (and VEOF enabled)? */
int ttyq_is_eof(const struct termios *tio, unsigned char c);

#endif
