/*
 * cg: a conjugate gradient in the style of the NAS CG benchmark, in
 * small: a random sparse symmetric positive definite matrix in compressed
 * rows on the heap, solved by conjugate gradient iterations, the residual
 * norm printed at each. Doubles are live in slots across every landmark.
 * Built by ckpt cc and moved to aarch64 mid-run by t-xisa.sh.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct csr {
	int n, nnz;
	int *row, *col;
	double *val;
};

static unsigned long lcg = 12345;

static int rnd(int m)
{
	lcg = lcg * 6364136223846793005ul + 1442695040888963407ul;
	return (int)((lcg >> 33) % m);
}

static struct csr *make(int n, int per_row)
{
	struct csr *a = malloc(sizeof(*a));
	int i, k, nz = 0;

	a->n = n;
	a->row = malloc((n + 1) * sizeof(int));
	a->col = malloc((size_t)n * (per_row + 1) * sizeof(int));
	a->val = malloc((size_t)n * (per_row + 1) * sizeof(double));
	for (i = 0; i < n; i++) {
		a->row[i] = nz;
		a->col[nz] = i;
		a->val[nz++] = per_row + 1.0;
		for (k = 0; k < per_row; k++) {
			/* symmetric: the band i +- d, d from i's row */
			int d = 1 + (i * 7 + k * 13) % 17;
			int j = k & 1 ? i + d : i - d;
			if (j < 0 || j >= n)
				continue;
			a->col[nz] = j;
			a->val[nz++] = -0.5 / (1 + (d % 5));
		}
	}
	a->row[n] = nz;
	a->nnz = nz;
	(void)rnd;
	return a;
}

static void spmv(const struct csr *a, const double *x, double *y)
{
	for (int i = 0; i < a->n; i++) {
		double s = 0;
		for (int k = a->row[i]; k < a->row[i + 1]; k++)
			s += a->val[k] * x[a->col[k]];
		y[i] = s;
	}
}

static double dot(const double *x, const double *y, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i] * y[i];
	return s;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 20000, i, it;
	int iters = argc > 2 ? atoi(argv[2]) : 25;
	struct csr *a = make(n, 6);
	double *x = calloc(n, sizeof(double)), *r = malloc(n * sizeof(double));
	double *p = malloc(n * sizeof(double)), *q = malloc(n * sizeof(double));
	double rho, rho0, alpha, beta;

	for (i = 0; i < n; i++)
		r[i] = p[i] = 1.0 + rnd(100) / 100.0;
	rho = dot(r, r, n);
	for (it = 1; it <= iters; it++) {
		spmv(a, p, q);
		alpha = rho / dot(p, q, n);
		for (i = 0; i < n; i++) {
			x[i] += alpha * p[i];
			r[i] -= alpha * q[i];
		}
		rho0 = rho;
		rho = dot(r, r, n);
		beta = rho / rho0;
		for (i = 0; i < n; i++)
			p[i] = r[i] + beta * p[i];
		printf("iteration %2d: residual %.15e x[7] %.15e\n", it,
		       sqrt(rho), x[7]);
	}
	printf("nnz %d zeta %.15e\n", a->nnz, dot(x, x, n));
	return 0;
}
