/*
 * util/version: the release of this tree, the one place it is written
 * (the Makefile reads it for the pkg-config files and the packages).
 */
#ifndef CKPT_VERSION_H
#define CKPT_VERSION_H

#define CKPT_VERSION "0.4.0"

#endif
