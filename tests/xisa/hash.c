/*
 * hash: a chained hash table on the heap whose operations are function
 * pointers kept in the table (and in each node), with strdup'd keys and
 * heap lists; words are inserted, counted and removed in rounds, each
 * reported on a line. Built by ckpt cc and moved to aarch64 mid-run by
 * t-xisa.sh: the function pointers stay valid because ckpt cc gives each
 * function one address in both builds. argv[1] is the number of rounds,
 * argv[2], if given, a pause after each (microseconds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	char *key;
	long count;
	void (*show)(const struct node *, char *, size_t);
	struct node *next;
};

struct table {
	unsigned long (*hash)(const char *);
	int (*eq)(const char *, const char *);
	size_t nb, n;
	struct node **b;
};

static unsigned long fnv(const char *s)
{
	unsigned long h = 1469598103934665603ul;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ul;
	return h;
}

static int same(const char *a, const char *b)
{
	return !strcmp(a, b);
}

static void show_plain(const struct node *n, char *out, size_t len)
{
	snprintf(out, len, "%s=%ld", n->key, n->count);
}

static void show_star(const struct node *n, char *out, size_t len)
{
	snprintf(out, len, "*%s*%ld", n->key, n->count);
}

static void grow(struct table *t)
{
	size_t nb = t->nb * 2, i;
	struct node **b = calloc(nb, sizeof(*b)), *n, *next;

	for (i = 0; i < t->nb; i++)
		for (n = t->b[i]; n; n = next) {
			next = n->next;
			n->next = b[t->hash(n->key) % nb];
			b[t->hash(n->key) % nb] = n;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
}

static void add(struct table *t, const char *key)
{
	struct node **at = &t->b[t->hash(key) % t->nb], *n;

	for (n = *at; n; n = n->next)
		if (t->eq(n->key, key)) {
			n->count++;
			return;
		}
	n = malloc(sizeof(*n));
	n->key = strdup(key);
	n->count = 1;
	n->show = strlen(key) % 2 ? show_star : show_plain;
	n->next = *at;
	*at = n;
	if (++t->n > 2 * t->nb)
		grow(t);
}

static void drop_rare(struct table *t, long min)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct node **at = &t->b[i];
		while (*at) {
			struct node *n = *at;
			if (n->count < min) {
				*at = n->next;
				free(n->key);
				free(n);
				t->n--;
			} else {
				at = &n->next;
			}
		}
	}
}

static void word(unsigned long *s, char *w)
{
	int len = 2 + (int)((*s >> 40) % 4), i;
	for (i = 0; i < len; i++) {
		*s = *s * 6364136223846793005ul + 1;
		w[i] = "abcdefgh"[(*s >> 45) % 8];
	}
	w[len] = 0;
}

int main(int argc, char **argv)
{
	struct table *t = malloc(sizeof(*t));
	unsigned long s = 42;
	long rounds = argc > 1 ? atol(argv[1]) : 12, r, i;
	int pause = argc > 2 ? atoi(argv[2]) : 0;
	char w[16], line[64];

	t->hash = fnv;
	t->eq = same;
	t->nb = 4;
	t->n = 0;
	t->b = calloc(t->nb, sizeof(*t->b));
	for (r = 1; r <= rounds; r++) {
		struct node *best = NULL;
		for (i = 0; i < 20000; i++) {
			word(&s, w);
			add(t, w);
		}
		for (size_t k = 0; k < t->nb; k++)
			for (struct node *n = t->b[k]; n; n = n->next)
				if (!best || n->count > best->count ||
				    (n->count == best->count &&
				     strcmp(n->key, best->key) < 0))
					best = n;
		best->show(best, line, sizeof(line));
		printf("round %ld: %zu words in %zu buckets, top %s\n", r,
		       t->n, t->nb, line);
		drop_rare(t, r * 3);
		if (pause)
			usleep(pause);
	}
	return 0;
}
