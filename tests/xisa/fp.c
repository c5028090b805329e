/*
 * fp: floating point and vector values live across landmarks: a small
 * n-body simulation in doubles (state in an mmap'd array), float
 * accumulators, and a two-double vector, each carried in the frames at
 * every call and loop head. Built by ckpt cc and moved to aarch64 mid-run
 * by t-xisa.sh: the values must come through bit for bit. argv[2], if
 * given, is a pause after each line (microseconds), for the test to have
 * time to catch it mid-run.
 */
#include <sys/mman.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef double v2d __attribute__((vector_size(16)));

struct body {
	double x, y, z, vx, vy, vz, m;
};

static double energy(const struct body *b, int n)
{
	double e = 0;
	for (int i = 0; i < n; i++) {
		e += 0.5 * b[i].m * (b[i].vx * b[i].vx + b[i].vy * b[i].vy +
				     b[i].vz * b[i].vz);
		for (int j = i + 1; j < n; j++) {
			double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y;
			double dz = b[i].z - b[j].z;
			e -= b[i].m * b[j].m / sqrt(dx * dx + dy * dy + dz * dz);
		}
	}
	return e;
}

static void step(struct body *b, int n, double dt)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y;
			double dz = b[i].z - b[j].z;
			double d2 = dx * dx + dy * dy + dz * dz;
			double mag = dt / (d2 * sqrt(d2));
			b[i].vx -= dx * b[j].m * mag;
			b[i].vy -= dy * b[j].m * mag;
			b[i].vz -= dz * b[j].m * mag;
			b[j].vx += dx * b[i].m * mag;
			b[j].vy += dy * b[i].m * mag;
			b[j].vz += dz * b[i].m * mag;
		}
	for (int i = 0; i < n; i++) {
		b[i].x += dt * b[i].vx;
		b[i].y += dt * b[i].vy;
		b[i].z += dt * b[i].vz;
	}
}

int main(int argc, char **argv)
{
	int n = 24, steps = argc > 1 ? atoi(argv[1]) : 40;
	int pause = argc > 2 ? atoi(argv[2]) : 0;
	struct body *b = mmap(NULL, n * sizeof(*b), PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	float drift = 0.0f;
	v2d acc = { 0.0, 1.0 }, k = { 1.0000001, 0.9999999 };
	double e0;

	if (b == MAP_FAILED)
		return 1;
	for (int i = 0; i < n; i++) {
		b[i] = (struct body){ cos(i * 0.7) * (1 + i % 3),
			sin(i * 0.7) * (1 + i % 3), 0.1 * (i % 5 - 2),
			-sin(i * 0.7) * 0.3, cos(i * 0.7) * 0.3, 0.01 * i,
			1.0 + 0.1 * (i % 4) };
	}
	e0 = energy(b, n);
	for (int s = 1; s <= steps; s++) {
		for (int k2 = 0; k2 < 100; k2++)
			step(b, n, 0.0005);
		double e = energy(b, n);
		drift += (float)((e - e0) / e0);
		acc = acc * k + (v2d){ e, drift };
		printf("step %d: energy %.17g drift %.9g acc %.17g %.17g\n",
		       s * 100, e, drift, acc[0], acc[1]);
		if (pause)
			usleep(pause);
	}
	munmap(b, n * sizeof(*b));
	return 0;
}
